import assert from "node:assert/strict";
import { cli, SECRET, workspace } from "../support/cli.ts";
import { testClock, withApp } from "../support/helpers.ts";

Deno.test("users add registers a user with a generated password shown once", async (t) => {
  await using ws = await workspace();
  const clock = testClock();
  const added = await cli(["users", "add", "alice", "--email", "alice@example.com"], { env: ws.env, clock });
  assert.equal(added.code, 0, added.stderr);
  const password = /Password, shown once: ([0-9a-f-]{36})$/m.exec(added.stdout)?.[1];
  assert.ok(password, added.stdout);
  await t.step("the user logs in with it on the server", async () => {
    await withApp({ db: ws.db, alg: "ES256", auth: "password" }, async (app) => {
      const ok = await app.fetch("/auth", {
        method: "POST",
        body: new URLSearchParams({ username: "alice", password }),
      });
      assert.equal(ok.status, 200);
      const wrong = await app.fetch("/auth", {
        method: "POST",
        body: new URLSearchParams({ username: "alice", password: "x" }),
      });
      assert.equal(wrong.status, 401);
    }, { clock, secret: SECRET });
  });
  await t.step("only a hash is stored", async () => {
    const bytes = await Deno.readFile(ws.db);
    assert.ok(!new TextDecoder("latin1").decode(bytes).includes(password));
  });
  await t.step("--json, a taken name, and a bad name", async () => {
    const json = JSON.parse((await cli(["users", "add", "bob", "--json"], { env: ws.env, clock })).stdout);
    assert.equal(json.username, "bob");
    assert.equal(json.email, null);
    assert.match(json.password, /^[0-9a-f-]{36}$/);
    const taken = await cli(["users", "add", "alice"], { env: ws.env, clock });
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /already registered/);
    const bad = await cli(["users", "add", "no spaces"], { env: ws.env, clock });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Username must be/);
  });
});
