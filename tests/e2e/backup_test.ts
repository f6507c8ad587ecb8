/**
 * Backups against the real program: `backup` while the server serves and writes gives a
 * consistent, complete copy; `restore` puts it back; a copy of the database file alone, made
 * while the server runs, misses what its WAL holds, and a server started on it says so; a
 * copy made after a clean stop is complete (the WAL was checkpointed).
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { postJson } from "../../torture/harness.ts";
import { withTempDir } from "../support/helpers.ts";
import { runCli, scenario, spawnServer, type StartedServer, startServer } from "../support/server_process.ts";

const DB = "totally_not_my_privateKeys.db";
const ARGS = ["--rate-limit", "off"];

function usernames(path: string): Set<string> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    assert.deepEqual(db.prepare("PRAGMA integrity_check").all().map((row) => row.integrity_check), ["ok"]);
    return new Set(db.prepare("SELECT username FROM users").all().map((row) => String(row.username)));
  } finally {
    db.close();
  }
}

/** Registers users one after another until `stop()`; `done` holds those that got a 201. */
function registering(server: StartedServer) {
  const done: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const outcome = await postJson(`${server.url}/register`, { username: `u${i}`, email: `u${i}@example.com` });
      assert.ok(outcome.ok && outcome.status === 201, `register u${i}`);
      done.push(`u${i}`);
    }
  })();
  return {
    done,
    async stop() {
      running = false;
      await loop;
    },
  };
}

scenario("backup while the server writes is consistent and complete; restore brings it back", async (t) => {
  await withTempDir(async (cwd) => {
    const server = await startServer({ cwd, args: ARGS });
    const writer = registering(server);
    let before: string[] = [];
    await t.step("a copy of the file alone, made while the server runs, misses what the WAL holds", async () => {
      await Deno.mkdir(`${cwd}/copied`);
      await Deno.copyFile(`${cwd}/${DB}`, `${cwd}/copied/${DB}`);
      await Deno.copyFile(`${cwd}/${DB}.secret`, `${cwd}/copied/${DB}.secret`);
      const db = new DatabaseSync(`${cwd}/copied/${DB}`, { readOnly: true });
      const tables = Number(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get()!.n);
      db.close();
      assert.equal(tables, 0, "everything is still in the -wal file");
      const onCopy = await startServer({ cwd: `${cwd}/copied`, args: ARGS });
      assert.equal(await onCopy.stop(), 0);
      assert.ok(
        onCopy.lines.some((line) => line.includes('"msg":"restore_may_be_incomplete"')),
        "the server says the copy may be incomplete",
      );
    });
    await t.step("backup FILE while users register", async () => {
      while (writer.done.length < 20) await new Promise((resolve) => setTimeout(resolve, 10));
      before = [...writer.done];
      const result = await runCli(["backup", "backup.db"], { cwd });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Verified: integrity check ok/);
      assert.match(result.stderr, /opens only with the development secret in ".*\.secret"; keep a copy of it/);
      assert.equal((await Deno.stat(`${cwd}/backup.db`)).mode! & 0o777, 0o600);
    });
    await writer.stop();
    await t.step("the copy holds every user registered before it started", () => {
      const copied = usernames(`${cwd}/backup.db`);
      for (const name of before) assert.ok(copied.has(name), `${name} is in the backup`);
    });
    await t.step("restore refuses while the server runs, and works once it stopped", async () => {
      // A readiness check looks at the file (it must not drop the server's locks on it).
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      const refused = await runCli(["restore", "backup.db"], { cwd });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /is in use .* stop the server first/);
      assert.equal(await server.stop(), 0);
      const restored = await runCli(["restore", "backup.db"], { cwd });
      assert.equal(restored.code, 0, restored.stderr);
      assert.deepEqual(usernames(`${cwd}/${DB}`), usernames(`${cwd}/backup.db`));
      const again = await startServer({ cwd, args: ARGS });
      const login = await postJson(`${again.url}/register`, { username: before[0], email: "x@example.com" });
      assert.ok(login.ok && login.status === 409, "a restored user is there");
      assert.equal(await again.stop(), 0);
      assert.ok(!again.lines.some((line) => line.includes("restore_may_be_incomplete")));
    });
  });
});

scenario("after a clean stop the database file alone is complete: the WAL was checkpointed", async () => {
  await withTempDir(async (cwd) => {
    const server = spawnServer({ cwd, env: { NOT_MY_KEY: "checkpoint test master secret 32" }, args: ARGS });
    const started = await server.listening;
    for (let i = 0; i < 5; i++) await postJson(`${started}/register`, { username: `c${i}`, email: `c${i}@x.io` });
    assert.equal(await server.stop(), 0);
    await Deno.mkdir(`${cwd}/copy`);
    await Deno.copyFile(`${cwd}/${DB}`, `${cwd}/copy/${DB}`);
    assert.deepEqual(usernames(`${cwd}/copy/${DB}`), new Set(["c0", "c1", "c2", "c3", "c4"]));
  });
});
