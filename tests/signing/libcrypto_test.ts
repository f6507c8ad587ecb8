import assert from "node:assert/strict";
import { LIBCRYPTO_CANDIDATES, openLibcrypto } from "../../lib/signing/libcrypto.ts";

Deno.test("openLibcrypto() opens the first OpenSSL 3 it finds and names its version", () => {
  const lib = openLibcrypto();
  try {
    assert.match(lib.version, /^OpenSSL 3\.\d+\.\d+/);
    assert.ok(LIBCRYPTO_CANDIDATES.includes(lib.path), lib.path);
    assert.ok(Number(lib.symbols.OpenSSL_version_num()) >= 0x30000000);
  } finally {
    lib.close();
  }
});

Deno.test("the candidates are tried in order: ones that do not load are skipped, and the first that does is used", () => {
  const lib = openLibcrypto(["/nonexistent/libcrypto.so.3", "libcrypto.so.3"]);
  try {
    assert.equal(lib.path, "libcrypto.so.3");
  } finally {
    lib.close();
  }
});

Deno.test("no usable candidate is an Error naming every path tried, including a library that is not libcrypto", () => {
  assert.throws(
    () => openLibcrypto(["/nonexistent/a.so", "libc.so.6"]),
    (error: Error) =>
      error.message === "No usable OpenSSL 3 libcrypto found (tried /nonexistent/a.so, libc.so.6)" &&
      !(error instanceof Deno.errors.NotCapable),
  );
  assert.throws(() => openLibcrypto([]), /tried \)$/);
});

Deno.test("without the FFI permission the refusal itself is thrown, not a list of paths", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/open.ts`;
    const lib = new URL("../../lib/signing/libcrypto.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { openLibcrypto } from ${JSON.stringify(lib)};
try { openLibcrypto(); console.log("opened"); } catch (error) { console.log(error.constructor.name); }`,
    );
    const { stdout, success } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", script],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.ok(success);
    assert.equal(new TextDecoder().decode(stdout).trim(), "NotCapable");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
