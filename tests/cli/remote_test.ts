import assert from "node:assert/strict";
import { privateKeyText } from "../../lib/keys/key_files.ts";
import { cli, workspace } from "../support/cli.ts";
import { fetchFrom, freshKey, testClock, withApp } from "../support/helpers.ts";

const TOKEN = "remote-test-admin-token-0123456789";
const URL = "http://127.0.0.1:8080";

Deno.test("keys list, rotate, revoke and import --server work through a running server's admin API", async (t) => {
  await using ws = await workspace();
  const clock = testClock();
  await withApp({ alg: "ES256" }, async (app) => {
    const opts = { env: { ADMIN_TOKEN: TOKEN }, clock, fetch: fetchFrom(app) };
    await t.step("list: the server's keys as a table", async () => {
      const result = await cli(["keys", "list", "--server", URL], opts);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^KID\s+ALG\s+STATUS/);
      assert.equal(result.stdout.match(/ active /g)?.length, 1);
    });
    await t.step("rotate: what changed, then the keys", async () => {
      const result = await cli(["keys", "rotate", "--server", URL], opts);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Published \S+ \(ES256\)/m);
    });
    await t.step("revoke KID --json", async () => {
      const next = app.keys.view().next!.kid;
      const result = await cli(["keys", "revoke", next, "--server", URL, "--json"], opts);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).keys.find((key: { kid: string }) => key.kid === next).status, "revoked");
      const unknown = await cli(["keys", "revoke", "no-such-kid", "--server", URL], opts);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /The server answered 404: No key with kid "no-such-kid"/);
    });
    await t.step("import FILE: checked here first, then sent", async () => {
      const material = await freshKey("ES256");
      const path = `${ws.dir}/mine.pem`;
      await Deno.writeTextFile(path, privateKeyText(material, "pem"));
      const result = await cli(["keys", "import", path, "--server", URL], opts);
      assert.equal(result.code, 0, result.stderr);
      assert.ok((await app.store.listKeys()).some((key) => key.kid === material.kid));
      await Deno.writeTextFile(`${ws.dir}/bad.pem`, "not a key");
      const bad = await cli(["keys", "import", `${ws.dir}/bad.pem`, "--server", URL], opts);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /holds no private key/, "refused before anything is sent");
    });
    await t.step("keygen --upload: the key goes to the server, and to --out only when given", async () => {
      const result = await cli(["keygen", "--alg", "ES256", "--upload", URL], opts);
      assert.equal(result.code, 0, result.stderr);
      const kid = /^Uploaded (\S+) \(ES256\)/.exec(result.stdout)?.[1];
      assert.ok(kid && (await app.store.listKeys()).some((key) => key.kid === kid));
      const out = `${ws.dir}/kept.pem`;
      const kept = await cli(["keygen", "--alg", "ES256", "--upload", URL, "--out", out, "--json"], opts);
      assert.equal(kept.code, 0, kept.stderr);
      assert.equal((await Deno.stat(out)).mode! & 0o777, 0o600);
      assert.ok((await app.store.listKeys()).some((key) => key.kid === JSON.parse(kept.stdout).kid));
    });
  }, { env: { ADMIN_TOKEN: TOKEN }, clock });
});

Deno.test("the remote commands refuse to leak the token and say why a server refused", async (t) => {
  const clock = testClock();
  await withApp({ alg: "ES256" }, async (app) => {
    const fetch = fetchFrom(app);
    await t.step("no ADMIN_TOKEN: a configuration error, nothing sent", async () => {
      const result = await cli(["keys", "list", "--server", URL], { clock, fetch });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /Set ADMIN_TOKEN .* never from the command line/);
    });
    await t.step("plain http to another host, or not a URL: a usage error", async () => {
      const env = { ADMIN_TOKEN: TOKEN };
      const remote = await cli(["keys", "list", "--server", "http://auth.example.com"], { env, clock, fetch });
      assert.equal(remote.code, 2);
      assert.match(remote.stderr, /Refusing to send ADMIN_TOKEN and keys over plain http to "auth\.example\.com"/);
      assert.equal((await cli(["keys", "rotate", "--server", "ftp://x"], { env, clock, fetch })).code, 2);
    });
    await t.step("a wrong token is refused by the server, and a server without the admin API says so", async () => {
      const wrong = await cli(["keys", "list", "--server", URL], {
        env: { ADMIN_TOKEN: "a-wrong-admin-token-0123456789" },
        clock,
        fetch,
      });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /The server at http:\/\/127\.0\.0\.1:8080 refused ADMIN_TOKEN/);
      assert.ok(!wrong.stderr.includes("wrong-admin-token"), "the token is never printed");
    });
  }, { env: { ADMIN_TOKEN: TOKEN }, clock });
  await withApp({ alg: "ES256" }, async (app) => {
    const off = await cli(["keys", "list", "--server", URL], {
      env: { ADMIN_TOKEN: TOKEN },
      clock,
      fetch: fetchFrom(app),
    });
    assert.equal(off.code, 1);
    assert.match(
      off.stderr,
      /No admin API at http:\/\/127\.0\.0\.1:8080: is the server running with ADMIN_TOKEN set\?/,
    );
  }, { clock });
  const unreachable = await cli(["keys", "list", "--server", "http://127.0.0.1:9"], { env: { ADMIN_TOKEN: TOKEN } });
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /Cannot reach the server at http:\/\/127\.0\.0\.1:9/);
});
