import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { cli, SECRET, workspace } from "../support/cli.ts";
import { register, testClock, withApp } from "../support/helpers.ts";

Deno.test("backup writes a verified 0600 copy while the server runs; restore puts it back once it stopped", async (t) => {
  await using ws = await workspace();
  const clock = testClock();
  const copy = `${ws.dir}/backup.db`;
  let kids: string[] = [];
  await withApp({ db: ws.db, alg: "ES256", auth: "password" }, async (app) => {
    assert.equal((await register(app, "ada")).response.status, 201);
    kids = (await app.store.listKeys()).map((key) => key.kid);
    await t.step("backup FILE while the server has the database open", async () => {
      const result = await cli(["backup", copy], { env: ws.env, clock });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Backed up ".*keys\.db" to ".*backup\.db" \(mode 0600\): 3 keys, 1 users/);
      assert.match(result.stdout, /Verified: integrity check ok, every key opens with the master secret/);
      assert.equal((await Deno.stat(copy)).mode! & 0o777, 0o600);
    });
    await t.step("a backup never overwrites a file", async () => {
      const again = await cli(["backup", copy], { env: ws.env, clock });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists; name a new file/);
    });
    await t.step("restore refuses while the server has the database open", async () => {
      const refused = await cli(["restore", copy], { env: ws.env, clock });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /is in use .* stop the server first/);
    });
    assert.equal((await register(app, "grace")).response.status, 201, "a user the backup does not have");
  }, { clock, secret: SECRET });

  await t.step("restore with another secret is refused before anything changes", async () => {
    const before = await Deno.readFile(ws.db);
    const wrong = await cli(["restore", copy], { env: { ...ws.env, NOT_MY_KEY: "another secret, 32 bytes long!!" } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /does not match/);
    assert.deepEqual(await Deno.readFile(ws.db), before);
  });
  await t.step("restore: the backup's users and keys are back, the replaced database is kept", async () => {
    const result = await cli(["restore", copy, "--json"], { env: ws.env, clock });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.users, 1);
    assert.equal(report.kept, `${ws.db}.before-restore`);
    const db = new DatabaseSync(ws.db, { readOnly: true });
    assert.deepEqual(db.prepare("SELECT username FROM users").all().map((row) => row.username), ["ada"]);
    db.close();
    await withApp({ db: ws.db, alg: "ES256" }, async (app) => {
      assert.deepEqual((await app.store.listKeys()).map((key) => key.kid).slice(0, 3), kids);
    }, { clock, secret: SECRET });
  });
  await t.step("a PostgreSQL database is pg_dump's job", async () => {
    const pg = await cli(["backup", `${ws.dir}/x.db`, "--db", "postgres://nobody@127.0.0.1:1/x"], { env: ws.env });
    assert.equal(pg.code, 1);
    assert.match(pg.stderr, /backup works on SQLite files; for PostgreSQL use pg_dump and pg_restore/);
    const restore = await cli(["restore", copy, "--db", "postgres://nobody@127.0.0.1:1/x"], { env: ws.env });
    assert.match(restore.stderr, /restore works on SQLite files; for PostgreSQL use pg_dump and pg_restore/);
  });
});
