import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from "jose";
import { withTempDir } from "../support/helpers.ts";
import { runCli, scenario, startServer, withServer } from "../support/server_process.ts";

async function postToken(url: string, path = "/auth", init: RequestInit = {}): Promise<string> {
  const response = await fetch(`${url}${path}`, { method: "POST", ...init });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).token;
}

scenario("a fresh start creates the database and serves tokens that verify like real consumers do", async () => {
  const started = performance.now();
  await withServer({ args: ["--auth", "open"] }, async (server, cwd) => {
    const stat = await Deno.stat(`${cwd}/totally_not_my_privateKeys.db`);
    assert.ok(stat.isFile, "the DB file is created in the working directory");
    assert.ok(performance.now() - started < 15_000);
    const secret = await Deno.stat(`${cwd}/totally_not_my_privateKeys.db.secret`);
    assert.equal(secret.mode! & 0o777, 0o600, "the development secret is private to its owner");
    assert.ok(server.lines.some((line) => line.includes("development_secret_created")), "and it says so");

    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const token = await postToken(server.url);
    const { payload } = await jwtVerify(token, jwks, { issuer: server.url });
    assert.equal(payload.sub, "anonymous");

    const expired = await postToken(server.url, "/auth?expired=true");
    assert.ok(decodeJwt(expired).exp! < Date.now() / 1000);
    await assert.rejects(
      jwtVerify(expired, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`))),
      errors.JWKSNoMatchingKey,
    );

    const db = new DatabaseSync(`${cwd}/totally_not_my_privateKeys.db`, { readOnly: true });
    const rows = db.prepare("SELECT kid, key, exp FROM keys").all();
    const now = Date.now() / 1000;
    assert.ok(rows.some((row) => Number(row.exp) > now), "a valid key row");
    assert.ok(rows.some((row) => Number(row.exp) <= now), "an expired key row");
    for (const row of rows) {
      const text = new TextDecoder().decode(row.key as Uint8Array);
      assert.ok(!text.includes("PRIVATE KEY") && !text.includes('"d"'), "no plaintext key on disk");
    }
    db.close();
    assert.equal(await server.stop("SIGTERM"), 0, "a graceful stop exits 0");
  });
});

scenario("keys survive a restart: a token issued before it verifies after it", async () => {
  await withTempDir(async (cwd) => {
    const env = { NOT_MY_KEY: "restart test secret 0123456789" };
    const first = await startServer({ cwd, env, args: ["--auth", "open"] });
    const token = await postToken(first.url);
    const before = await (await fetch(`${first.url}/jwks`)).text();
    assert.equal(await first.stop(), 0);

    const second = await startServer({ cwd, env, args: ["--auth", "open"] });
    try {
      assert.equal(await (await fetch(`${second.url}/jwks`)).text(), before, "the same keys, the same kids");
      await jwtVerify(token, createRemoteJWKSet(new URL(`${second.url}/.well-known/jwks.json`)));
    } finally {
      await second.stop();
    }
  });
});

scenario("a wrong NOT_MY_KEY stops the start with one line, exit 1, and leaves the database untouched", async () => {
  await withTempDir(async (cwd) => {
    const server = await startServer({ cwd, env: { NOT_MY_KEY: "the right secret, 32 bytes long!" } });
    assert.equal(await server.stop(), 0);
    const db = `${cwd}/totally_not_my_privateKeys.db`;
    const before = await Deno.readFile(db);
    const result = await runCli(["serve", "--port", "0"], {
      cwd,
      env: { NOT_MY_KEY: "a wrong secret, 32 bytes long!!" },
    });
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /NOT_MY_KEY does not match the secret .* was created with/);
    assert.ok(!result.stderr.includes("wrong secret") && !result.stderr.includes("right secret"));
    assert.deepEqual(await Deno.readFile(db), before);
  });
});

scenario("invalid configuration fails at start with one line naming the setting and exit code 2", async () => {
  await withTempDir(async (cwd) => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--port", "abc"], {}, /Invalid --port "abc"/],
      [[], { PORT: "70000" }, /Invalid PORT "70000"/],
      [["--auth", "maybe"], {}, /Invalid --auth "maybe": expected "open" or "password"/],
      [["--alg", "HS256"], {}, /Invalid --alg "HS256": expected one of RS256, PS256, ES256, EdDSA/],
      [["--bogus"], {}, /Unknown option '--bogus'/],
    ];
    for (const [args, env, pattern] of cases) {
      const result = await runCli(["serve", ...args], { cwd, env });
      assert.equal(result.code, 2, `${args.join(" ")} ${JSON.stringify(env)}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split("\n").length, 1);
      assert.match(result.stderr, pattern);
    }
    await Deno.writeTextFile(`${cwd}/.env`, "TOKEN_TTL=forever\n");
    const dotenv = await runCli(["serve"], { cwd });
    assert.equal(dotenv.code, 2);
    assert.match(dotenv.stderr, /Invalid TOKEN_TTL in \.env "forever"/);
    assert.deepEqual([...Deno.readDirSync(cwd)].map((e) => e.name), [".env"], "nothing created");
  });
});
