import assert from "node:assert/strict";
import { readSeedUsersFile } from "../../lib/cli/seed_users.ts";
import { AppError } from "../../lib/core/errors.ts";
import { withTempDir } from "../support/helpers.ts";

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof AppError && error.code === "invalid_config" && pattern.test(error.message) &&
  !error.message.includes("s3cret");

Deno.test("readSeedUsersFile() reads NAME:PASSWORD lines from an owner-only file", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/seed`;
    await Deno.writeTextFile(file, "# the course's test user\nuserABC:password123\n\n  alice:a:b,c s3cret \r\n", {
      mode: 0o600,
    });
    assert.deepEqual(await readSeedUsersFile(file), [
      { username: "userABC", password: "password123" },
      { username: "alice", password: "a:b,c s3cret " },
    ]);
  });
});

Deno.test("readSeedUsersFile() refuses a file others can read, a missing one and a bad line, never showing it", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/seed`;
    await Deno.writeTextFile(file, "alice:s3cret\n", { mode: 0o600 });
    Deno.chmodSync(file, 0o640);
    await assert.rejects(readSeedUsersFile(file), refused(/is readable by others \(mode 0640\); run: chmod 600/));
    await assert.rejects(readSeedUsersFile(`${dir}/none`), refused(/does not exist/));
    await assert.rejects(readSeedUsersFile(dir), refused(/is not a regular file/));
    Deno.chmodSync(file, 0o600);
    await Deno.writeTextFile(file, "alice:s3cret\nno colon s3cret\n");
    await assert.rejects(readSeedUsersFile(file), refused(/line 2: expected NAME:PASSWORD \(the line is not shown\)$/));
  });
});
