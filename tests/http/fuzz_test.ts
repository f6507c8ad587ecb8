import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { describeCase, FUZZ_USER, fuzzCase, judge, parseRawResponses } from "../../torture/fuzz.ts";
import { createRng, seedFrom } from "../../torture/prng.ts";
import { testApp } from "../support/helpers.ts";

Deno.test("2,000 hostile requests through handle() get no 5xx, only JSON errors, and leave the service working", async () => {
  const seed = seedFrom(Deno.env.toObject(), 20261122);
  console.log(`fuzz seed ${seed} (replay: SEED=${seed} deno task test tests/fuzz_test.ts)`);
  const dir = await Deno.makeTempDir();
  const db = `${dir}/fuzz.db`;
  const reported: unknown[] = [];
  const app = await testApp(
    { auth: "password", "rate-limit": "off", db, "seed-user": [`${FUZZ_USER.username}:${FUZZ_USER.password}`] },
    { app: { onError: (error) => reported.push(error) } },
  );
  try {
    const rng = createRng(seed);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const fuzz = fuzzCase(rng);
      let response: Response;
      try {
        response = await app.fetch(fuzz.path, {
          method: fuzz.method,
          headers: fuzz.headers as [string, string][],
          body: fuzz.body,
        });
      } catch (error) {
        // `new Request` refuses a few shapes (a body on GET, a forbidden method): never sent.
        assert.ok(error instanceof TypeError, `${describeCase(fuzz)}: ${error}`);
        refused++;
        continue;
      }
      const text = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const problem = judge(fuzz, response.status, response.headers.get("content-type"), text);
      if (problem !== null) failures.push(`${describeCase(fuzz)}: ${problem}`);
    }
    assert.deepEqual(failures, [], `seed ${seed}`);
    assert.deepEqual(reported, [], "nothing was reported as an unexpected error");
    assert.ok(refused < 100, `only a few cases are unsendable (${refused})`);
    for (const status of [200, 201, 400, 401, 404, 405, 413, 415]) {
      assert.ok((statuses.get(status) ?? 0) > 0, `the cases reach the ${status} path`);
    }

    const jwks = await app.fetch("/.well-known/jwks.json");
    assert.equal(jwks.status, 200);
    const registered = await app.fetch("/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "after-fuzz", email: "after@example.com" }),
    });
    assert.equal(registered.status, 201, "registration still works");
    const { password } = await registered.json();
    const login = await app.fetch("/auth", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "after-fuzz", password }),
    });
    assert.equal(login.status, 200, "and so do logins");
    await login.body?.cancel();
  } finally {
    await app.close();
  }
  const check = new DatabaseSync(db);
  try {
    assert.deepEqual(check.prepare("PRAGMA integrity_check").all().map((row) => row.integrity_check), ["ok"]);
    const keys = check.prepare("SELECT COUNT(*) AS n FROM keys").get() as { n: number };
    assert.ok(keys.n >= 3, "SQL in usernames and passwords touched no table");
  } finally {
    check.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseRawResponses() splits pipelined raw answers", () => {
  const text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}" +
    "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
  assert.deepEqual(parseRawResponses(text), [
    { status: 200, contentType: "application/json", body: "{}" },
    { status: 400, contentType: null, body: "" },
  ]);
});
