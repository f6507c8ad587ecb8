import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { body, register, withApp } from "../support/helpers.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A registration's status, error code and field, as one value to compare. */
function outcome(answer: { response: Response; json: Record<string, unknown> }): unknown[] {
  return [answer.response.status, answer.json.error, answer.json.field];
}
Deno.test("POST /register", async (t) => {
  await withApp({ auth: "password" }, async (app) => {
    await t.step("POST /register answers 201 with a UUIDv4 password, not cached", async () => {
      const { response, json } = await register(app, "testor_1a2b3c4d");
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.match(String(json.password), UUID_V4);
    });
    await t.step("a taken username or email is 409, invalid input is 400 naming the field", async () => {
      const cases: [string, string, unknown[], string][] = [
        ["testor_1a2b3c4d", "fresh@test.com", [409, "conflict", "username"], "the same username"],
        ["fresh", "testor_1a2b3c4d@test.com", [409, "conflict", "email"], "the same email"],
        ["fresh", "nope", [400, "invalid_field", "email"], "not an email"],
        ["TESTOR_1A2B3C4D", "other@test.com", [409, "conflict", "username"], "a username in another case"],
        ["fresh2", "Testor_1a2b3c4d@TEST.com", [409, "conflict", "email"], "an email in another case"],
      ];
      for (const [username, email, expected, why] of cases) {
        assert.deepEqual(outcome(await register(app, username, email)), expected, why);
      }
      const noBody = await app.fetch("/register", { method: "POST" });
      assert.deepEqual([noBody.status, (await body(noBody)).field], [400, "username"]);
    });
    await t.step("the password is stored only as its Argon2id hash", async () => {
      const { json } = await register(app, "hashed_user");
      await app.store.close();
      const db = new DatabaseSync(app.config.db, { readOnly: true });
      try {
        const row = db.prepare("SELECT password_hash FROM users WHERE username = ?").get("hashed_user")!;
        assert.match(String(row.password_hash), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        assert.ok(!String(row.password_hash).includes(String(json.password)));
      } finally {
        db.close();
      }
    });
  }, { onDisk: true });
});

Deno.test("POST /register is rate limited per client before the body is read", async () => {
  await withApp({ auth: "open", "rate-limit": "2/s" }, async (app) => {
    const post = (body: string) =>
      app.fetch("/register", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        ip: "198.51.100.4",
      });
    assert.equal((await post('{"username":"r1","email":"r1@test.com"}')).status, 201);
    assert.equal((await post('{"username":"r2","email":"r2@test.com"}')).status, 201);
    const refused = await post("{not json");
    assert.equal(refused.status, 429);
    assert.equal((await body(refused)).error, "rate_limited");
    assert.equal(refused.headers.get("ratelimit-remaining"), "0");
    const other = await app.fetch("/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      ip: "198.51.100.5",
    });
    assert.equal(other.status, 400, "another client is not limited");
  });
});
