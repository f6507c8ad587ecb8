import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import type { AppError } from "../../lib/core/errors.ts";
import { CONTRACT_COLUMNS, sqlTimestamp } from "../../lib/store/schema.ts";
import { describeSqliteError, isBusyError } from "../../lib/store/sqlite_errors.ts";
import { openSqliteStore, SQLITE_DIALECT } from "../../lib/store/sqlite.ts";
import { insert } from "../support/store_contract.ts";

const secret = secretCheck(createSealer("sqlite store test secret"));

/** A test on a database file of its own, in a directory removed afterwards. */
function fileTest(name: string, fn: (path: string) => Promise<void> | void): void {
  Deno.test(name, async () => {
    const dir = await Deno.makeTempDir();
    try {
      await fn(`${dir}/totally_not_my_privateKeys.db`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

fileTest("the schema is exactly the grader's: columns, order and types", async (path) => {
  const store = openSqliteStore(path, { secret });
  await store.close();
  const db = new DatabaseSync(path);
  try {
    for (const [table, columns] of Object.entries(CONTRACT_COLUMNS)) {
      const info = db.prepare('SELECT name, type, pk, "notnull" FROM pragma_table_info(?)').all(table);
      assert.deepEqual(info.map((row) => row.name), [...columns], `${table} columns`);
    }
    const keys = db.prepare("SELECT name, type, pk, \"notnull\" FROM pragma_table_info('keys')").all();
    assert.deepEqual(keys.map((c) => [c.name, c.type, c.pk, c.notnull]), [
      ["kid", "INTEGER", 1, 0],
      ["key", "BLOB", 0, 1],
      ["exp", "INTEGER", 0, 1],
    ]);
    const users = db.prepare("SELECT name, type FROM pragma_table_info('users')").all();
    assert.deepEqual(users.map((c) => c.type), ["INTEGER", "TEXT", "TEXT", "TEXT", "TIMESTAMP", "TIMESTAMP"]);
    const fks = db.prepare('SELECT "table", "from", "to" FROM pragma_foreign_key_list(\'auth_logs\')').all();
    assert.deepEqual(fks.map((f) => [f.table, f.from, f.to]), [["users", "user_id", "id"]]);
    const sql = (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'keys'").get() as { sql: string }).sql;
    assert.match(sql, /kid INTEGER PRIMARY KEY AUTOINCREMENT/);
    assert.equal((db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
  } finally {
    db.close();
  }
});

fileTest("migrations are safe to run on every start and keep the data", async (path) => {
  const first = openSqliteStore(path, { secret });
  await first.updateKeys(() => ({ inserts: [insert("a", 1)], updates: [], deletes: [] }));
  await first.createUser({ username: "alice", email: null, passwordHash: "h" }, 0);
  await first.close();
  for (let i = 0; i < 3; i++) {
    const again = openSqliteStore(path, { secret });
    assert.deepEqual((await again.listKeys()).map((key) => key.kid), ["a"]);
    assert.notEqual(await again.findUser("alice"), null);
    await again.close();
  }
});

fileTest("timestamps in users and auth_logs are TEXT 'YYYY-MM-DD HH:MM:SS' in UTC", async (path) => {
  const store = openSqliteStore(path, { secret });
  const at = Date.UTC(2026, 10, 22, 13, 5, 9, 750);
  const user = await store.createUser({ username: "alice", email: "a@x.io", passwordHash: "h" }, at);
  await store.recordLogins([{ userId: user.id, ip: "203.0.113.9", at }, { userId: null, ip: "::1", at }]);
  await store.close();
  const db = new DatabaseSync(path);
  const row = db.prepare("SELECT date_registered, typeof(date_registered) t, last_login FROM users").get()!;
  assert.deepEqual([row.date_registered, row.t, row.last_login], [
    "2026-11-22 13:05:09",
    "text",
    "2026-11-22 13:05:09",
  ]);
  const logs = db.prepare(
    "SELECT request_ip, request_timestamp, typeof(request_timestamp) t, user_id FROM auth_logs ORDER BY id",
  )
    .all();
  assert.deepEqual(logs.map((l) => [l.request_ip, l.request_timestamp, l.t, l.user_id]), [
    ["203.0.113.9", "2026-11-22 13:05:09", "text", user.id],
    ["::1", "2026-11-22 13:05:09", "text", null],
  ]);
  db.close();
  assert.equal(sqlTimestamp(0), "1970-01-01 00:00:00");
});

fileTest("a wrong master secret is refused before anything is written", async (path) => {
  const store = openSqliteStore(path, { secret });
  await store.updateKeys(() => ({ inserts: [insert("a", 1)], updates: [], deletes: [] }));
  await store.close();
  const before = await Deno.readFile(path);
  const wrong = secretCheck(createSealer("a different secret"));
  assert.throws(
    () => openSqliteStore(path, { secret: wrong }),
    (error: AppError) => error.code === "wrong_secret" && /NOT_MY_KEY does not match/.test(error.message),
  );
  assert.deepEqual(await Deno.readFile(path), before, "the database file is byte-identical");
});

fileTest("a file that is not a database gives a clear error and is not overwritten", async (path) => {
  const garbage = new TextEncoder().encode("this is not a database ".repeat(300));
  await Deno.writeFile(path, garbage);
  assert.throws(
    () => openSqliteStore(path, { secret }),
    (error: AppError) => error.code === "corrupt_data" && error.message.includes("is not a SQLite database"),
  );
  assert.deepEqual(await Deno.readFile(path), garbage);
});

fileTest("a contract table with other columns is refused, naming the table", (path) => {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE keys(kid INTEGER PRIMARY KEY, key TEXT, exp INTEGER, extra TEXT)");
  db.close();
  assert.throws(() => openSqliteStore(path, { secret }), /Table "keys" .* has columns \(kid, key, exp, extra\)/);
});

fileTest("rows another program left in keys are ignored, not published or deleted", async (path) => {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE keys(kid INTEGER PRIMARY KEY AUTOINCREMENT, key BLOB NOT NULL, exp INTEGER NOT NULL)");
  db.prepare("INSERT INTO keys (key, exp) VALUES (?, ?)").run("-----BEGIN RSA PRIVATE KEY-----", 1);
  db.close();
  const store = openSqliteStore(path, { secret });
  assert.deepEqual(await store.listKeys(), []);
  await store.updateKeys(() => ({ inserts: [insert("a", 1)], updates: [], deletes: [] }));
  const [ours] = await store.listKeys();
  assert.equal(ours!.id, 2, "our rows never take a foreign row's id");
  await store.close();
});

Deno.test("a closed store answers unavailable", async () => {
  const store = openSqliteStore(":memory:", { secret });
  await store.close();
  await store.close();
  await assert.rejects(store.ping(), (error: AppError) => error.code === "unavailable");
  await assert.rejects(store.findUser("alice"), (error: AppError) => error.code === "unavailable");
});

fileTest(
  "lookups of one turn share a read, see another process's commit made before they were asked, and survive close",
  async (path) => {
    const store = openSqliteStore(path, { secret });
    const other = openSqliteStore(path, { secret });
    try {
      const before = store.findUser("bob");
      await other.createUser({ username: "bob", email: null, passwordHash: "h" }, 0);
      const clients = [store.oauth.findClient("none"), store.oauth.findClient("none")];
      const asked = [store.findUser("bob"), store.findUser("BOB"), store.findUser("carol")];
      // Asked before the other process committed, but run at the end of the turn, after it.
      assert.equal((await before)?.username, "bob");
      assert.deepEqual((await Promise.all(asked)).map((user) => user?.username ?? null), ["bob", "bob", null]);
      assert.deepEqual(await Promise.all(clients), [null, null]);
      const pending = store.findUser("bob");
      await store.close();
      assert.equal((await pending)?.username, "bob", "a lookup asked before close is answered");
    } finally {
      await store.close();
      await other.close();
    }
  },
);

Deno.test("isBusyError() tells a lock held too long from every other failure", () => {
  assert.equal(isBusyError(describeSqliteError(new Error("database is locked"), "x.db")), true);
  assert.equal(isBusyError(describeSqliteError(new Error("database is busy"), "x.db")), true);
  assert.equal(isBusyError(describeSqliteError(new Error("database or disk is full"), "x.db")), false);
  assert.equal(isBusyError(describeSqliteError(new Error("file is not a database"), "x.db")), false);
  assert.equal(isBusyError(new Error("database is locked")), false, "only mapped store errors");
});

Deno.test("the SQLite dialect names a unique violation by table.column and writes only integer versions", () => {
  const db = new DatabaseSync(":memory:");
  try {
    db.exec("CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE)");
    db.exec("INSERT INTO users (email) VALUES ('a@x.io')");
    let violation: unknown;
    try {
      db.prepare("INSERT INTO users (email) VALUES (?)").run("a@x.io");
    } catch (error) {
      violation = error;
    }
    assert.equal(SQLITE_DIALECT.uniqueViolation(violation), "users.email");
    assert.equal(SQLITE_DIALECT.uniqueViolation(new Error("FOREIGN KEY constraint failed")), null);
    db.exec(SQLITE_DIALECT.writeVersion(7).sql);
    assert.equal(db.prepare(SQLITE_DIALECT.readVersion).get()!.version, 7);
    assert.throws(() => SQLITE_DIALECT.writeVersion(1.5), RangeError);
    assert.throws(() => SQLITE_DIALECT.writeVersion(-1), RangeError);
  } finally {
    db.close();
  }
});
