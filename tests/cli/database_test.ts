import assert from "node:assert/strict";
import { parseCommand, runCommand } from "../../lib/cli/commands.ts";
import { cli, SECRET, workspace } from "../support/cli.ts";
import { freshKey, testClock } from "../support/helpers.ts";

Deno.test("without NOT_MY_KEY the key commands use the development secret file, and say so when they create it", async () => {
  await using ws = await workspace();
  const env = { JWKS_DB: ws.db, JWKS_ALG: "ES256" };
  const first = await cli(["keys", "rotate"], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^jwks-server: Warning: NOT_MY_KEY is not set; generated a DEVELOPMENT master secret/);
  assert.equal((await Deno.stat(`${ws.db}.secret`)).mode! & 0o777, 0o600);
  const second = await cli(["keys", "list"], { env });
  assert.equal(second.code, 0);
  assert.equal(second.stderr, "", "no warning once the file exists");
  await Deno.remove(`${ws.db}.secret`);
  const lost = await cli(["keys", "list"], { env });
  assert.equal(lost.code, 1);
  assert.match(lost.stderr, /was created with another master secret: set NOT_MY_KEY to it/);
  await assert.rejects(Deno.stat(`${ws.db}.secret`), Deno.errors.NotFound, "the new secret file is removed again");
});

Deno.test("the database commands read the server's settings, and a bad one is exit 2 naming it", async (t) => {
  await using ws = await workspace();
  await t.step(".env supplies the database and the secret, as it does for the server", async () => {
    let stdout = "";
    const code = await runCommand(parseCommand(["keys", "rotate"]), {
      env: {},
      dotenv: { JWKS_DB: ws.db, NOT_MY_KEY: SECRET, JWKS_ALG: "EdDSA" },
      clock: testClock(),
      write: (text) => (stdout += text),
      warn: () => {},
      readStdin: () => Promise.resolve(""),
      generate: freshKey,
    });
    assert.equal(code, 0);
    assert.match(stdout, /\(EdDSA\)/);
  });
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: "http" }, /Invalid PORT "http": expected an integer/],
    [{ HOST: "bad host!" }, /Invalid HOST "bad host!"/],
    [{ JWKS_DB: "mysql://db/keys" }, /Invalid JWKS_DB: expected a file path, :memory: or a postgres:\/\/ URL/],
    [{ AUTH_MODE: "maybe" }, /Invalid AUTH_MODE "maybe"/],
    [{ TOKEN_TTL: "forever" }, /Invalid TOKEN_TTL "forever": expected a duration/],
    [{ JWKS_ALG: "HS256" }, /Invalid JWKS_ALG "HS256"/],
    [{ JWKS_ISSUER: "not a url" }, /Invalid JWKS_ISSUER "not a url": expected a URL/],
    [{ TRUST_PROXY: "sometimes" }, /Invalid TRUST_PROXY "sometimes"/],
    [{ RATE_LIMIT: "fast" }, /Invalid RATE_LIMIT "fast"/],
    [{ RATE_LIMIT_STORE: "memcached://x" }, /Invalid RATE_LIMIT_STORE: expected "memory" or a redis:\/\/ URL/],
    [{ JWKS_SEED_USERS: "nopassword" }, /Invalid JWKS_SEED_USERS: expected NAME:PASSWORD/],
    [{ ADMIN_TOKEN: "short" }, /Invalid ADMIN_TOKEN: must be at least 16 characters$/m],
    [{ LOG_LEVEL: "loud" }, /Invalid LOG_LEVEL "loud"/],
    [{ HASH_CONCURRENCY: "0" }, /Invalid HASH_CONCURRENCY "0"/],
  ];
  for (const [env, pattern] of cases) {
    await t.step(Object.keys(env).join(", "), async () => {
      const result = await cli(["keys", "list"], { env: { ...ws.env, ...env } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, pattern);
    });
  }
  await t.step("a setting in .env is named as such", async () => {
    let message = "";
    try {
      await runCommand(parseCommand(["keys", "list"]), {
        env: { JWKS_DB: ws.db },
        dotenv: { CLOCK_SKEW: "lots" },
        clock: testClock(),
        write: () => {},
        warn: () => {},
        readStdin: () => Promise.resolve(""),
      });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.match(message, /Invalid CLOCK_SKEW in \.env "lots"/);
  });
});
