/**
 * The course grader's checks, replayed against the real program: every rubric item of projects
 * 1, 2 and 3 as the grader performs it (form and Basic credentials first, a Bearer header on
 * every request, the DB file opened from outside, the source grepped for the key insert).
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from "jose";
import { libFiles } from "../support/helpers.ts";
import { scenario, withServer } from "../support/server_process.ts";

const DB = "totally_not_my_privateKeys.db";
const BEARER = { authorization: `Bearer ${"0123456789abcdef".repeat(4)}` };

/** The grader's authentication(): a form POST with Basic auth, then JSON if that fails. */
async function graderAuth(url: string, expired: boolean): Promise<string> {
  const query = expired ? "?expired=true" : "";
  let response = await fetch(`${url}/auth${query}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${btoa("userABC:password123")}`,
    },
    body: "password=password123&username=userABC",
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    response = await fetch(`${url}/auth${query}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...BEARER },
      body: JSON.stringify({ username: "userABC", password: "password123" }),
    });
  }
  assert.equal(response.status, 200);
  return (await response.json()).token;
}

async function project1And2(args: string[]) {
  await withServer({ args }, async (server, cwd) => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`), { headers: BEARER });
    const valid = await graderAuth(server.url, false);
    await jwtVerify(valid, jwks);
    const expired = await graderAuth(server.url, true);
    assert.ok(decodeJwt(expired).exp! * 1000 < Date.now(), "expired JWT is expired");
    await assert.rejects(jwtVerify(expired, jwks), errors.JWKSNoMatchingKey, "expired JWK is not in the JWKS");
    const bad: [string, string[]][] = [
      ["/auth", ["GET", "PUT", "DELETE", "PATCH", "HEAD"]],
      ["/.well-known/jwks.json", ["POST", "PUT", "DELETE", "PATCH"]],
    ];
    for (const [path, methods] of bad) {
      for (const method of methods) {
        const response = await fetch(`${server.url}${path}`, { method, headers: BEARER });
        await response.body?.cancel();
        assert.equal(response.status, 405, `${method} ${path}`);
      }
    }
    // Project 2: the database, read from outside while the server runs.
    const db = new DatabaseSync(`${cwd}/${DB}`, { readOnly: true });
    const now = Date.now() / 1000;
    const rows = db.prepare("SELECT * FROM keys").all();
    db.close();
    assert.ok(rows.some((row) => Number(row.exp) > now), "a valid key in the DB");
    assert.ok(rows.some((row) => Number(row.exp) <= now), "an expired key in the DB");
    assert.equal(await server.stop(), 0);
  });
}

scenario("grader project 1 and 2 pass in open mode", () => project1And2(["--auth", "open"]));

scenario(
  "grader project 1 and 2 pass in password mode with the seeded grader user",
  () => project1And2(["--seed-user", "userABC:password123"]),
);

Deno.test("grader project 2: the source stores keys with the parameterised insert it greps for", () => {
  const pattern =
    /INSERT *(OR *REPLACE *)?INTO *keys *(\( *key, *exp *\) *VALUES *\(\?, *\? *\)|\( *kid, *key, *exp *\) *VALUES *\(\?, *\?, *\? *\))/i;
  const hits = libFiles().filter((name) =>
    Deno.readTextFileSync(new URL(`../../lib/${name}`, import.meta.url)).split("\n").some((line) => pattern.test(line))
  );
  assert.deepEqual(hits, ["store/sql_store.ts"]);
});

scenario("grader project 3 passes: registration, encrypted keys, auth logging, rate limiting", async () => {
  await withServer({
    args: ["--seed-user", "userABC:password123"],
    env: { NOT_MY_KEY: "grader project 3 secret value!!" },
  }, async (server, cwd) => {
    const username = `testor_${crypto.randomUUID().slice(0, 8)}`;
    const registered = await fetch(`${server.url}/register`, {
      method: "POST",
      headers: { "content-type": "application/json", ...BEARER },
      body: JSON.stringify({ username, email: `${username}@test.com` }),
    });
    assert.ok(registered.status === 200 || registered.status === 201);
    const { password } = await registered.json();
    assert.match(password, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const login = () =>
      fetch(`${server.url}/auth`, {
        method: "POST",
        headers: { "content-type": "application/json", ...BEARER },
        body: JSON.stringify({ username, password }),
      });
    const first = await login();
    await first.body?.cancel();
    assert.equal(first.status, 200);

    const db = new DatabaseSync(`${cwd}/${DB}`, { readOnly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all().map((r) => r.name);
      assert.ok(tables.includes("users") && tables.includes("auth_logs"));
      const user = db.prepare("SELECT * FROM users WHERE username=?").get(username)!;
      assert.ok(user.password_hash !== "" && user.password_hash !== password, "password hash is hashed");
      for (const key of db.prepare("SELECT * FROM keys").all()) {
        const text = new TextDecoder().decode(key.key as Uint8Array).trim();
        assert.ok(!text.startsWith("-----BEGIN RSA PRIVATE KEY-----"), `private key ${key.kid} is encrypted`);
      }
      // The login is logged by the time its response has arrived.
      const logs = db.prepare("SELECT * FROM auth_logs WHERE user_id=?").all(user.id as number);
      assert.equal(logs.length, 1);
      assert.ok(logs[0]!.request_ip !== "" && String(logs[0]!.request_timestamp).length === 19);
    } finally {
      db.close();
    }

    // The rate-limit item: a burst past 10 in a second gets 429 (in-process tests cover the
    // exact 100 ms spacing with an injected clock).
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const response = await login();
      await response.body?.cancel();
      statuses.push(response.status);
    }
    assert.equal(statuses.at(-1), 429);
    assert.ok(statuses.filter((s) => s === 200).length <= 10);
    assert.equal(await server.stop(), 0);
  });
});
