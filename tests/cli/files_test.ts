import assert from "node:assert/strict";
import { readInput, readStream } from "../../lib/cli/files.ts";
import { AppError } from "../../lib/core/errors.ts";
import { withTempDir } from "../support/helpers.ts";

const noStdin = { readStdin: () => Promise.reject(new Error("stdin was not to be read")) };

Deno.test("readInput() reads a file whole, or stdin for -", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/key.pem`, "line 1\nline 2\n");
    assert.equal(await readInput(`${dir}/key.pem`, noStdin, "Key file"), "line 1\nline 2\n");
    assert.equal(await readInput("-", { readStdin: () => Promise.resolve("from stdin") }, "Key file"), "from stdin");
  });
});

Deno.test("readInput() says in one line what is wrong with the path, never what is in it", async () => {
  await withTempDir(async (dir) => {
    const fails = async (path: string, code: string, message: string) => {
      await assert.rejects(readInput(path, noStdin, "Key file"), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, code);
        assert.equal(error.message, message);
        return true;
      });
    };
    await fails(`${dir}/missing.pem`, "not_found", `Key file "${dir}/missing.pem" does not exist`);
    await fails(dir, "bad_request", `Key file "${dir}" is a directory`);
    if (Deno.uid() !== 0) { // the superuser reads any file whatever its mode
      await Deno.writeTextFile(`${dir}/secret.pem`, "PRIVATE");
      await Deno.chmod(`${dir}/secret.pem`, 0o000);
      await fails(`${dir}/secret.pem`, "forbidden", `Key file "${dir}/secret.pem" is not readable`);
    }
  });
});

Deno.test("readInput() reads at most 1 MiB: /dev/zero and an endless stdin are cut, not read forever", async () => {
  const tooLarge = (error: unknown) =>
    error instanceof AppError && error.code === "payload_too_large" &&
    /is larger than 1048576 bytes$/.test(error.message);
  await assert.rejects(readInput("/dev/zero", noStdin, "Key file"), tooLarge);
  const endless = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(new Uint8Array(65536).fill(65)) });
  const fromStdin = { readStdin: (max?: number) => readStream(endless, max) };
  await assert.rejects(readInput("-", fromStdin, "Key file"), tooLarge);
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/big.pem`, new Uint8Array(2048).fill(65));
    assert.equal((await readInput(`${dir}/big.pem`, noStdin, "Key file", { maxBytes: 2048 })).length, 2048);
    await assert.rejects(
      readInput(`${dir}/big.pem`, noStdin, "Key file", { maxBytes: 2047 }),
      /larger than 2047 bytes/,
    );
  });
});
