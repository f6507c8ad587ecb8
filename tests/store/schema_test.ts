import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { AppError } from "../../lib/core/errors.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import { POSTGRES_DIALECT } from "../../lib/store/postgres.ts";
import {
  checkContractColumns,
  CONTRACT_COLUMNS,
  inspectDatabase,
  MIGRATIONS,
  openDatabase,
  sqlTimestamp,
} from "../../lib/store/schema.ts";
import { type Dialect, runProgram, type Statement } from "../../lib/store/sql.ts";
import { openSqliteStore, SQLITE_DIALECT } from "../../lib/store/sqlite.ts";

const secret = secretCheck(createSealer("schema test secret"));

/** Every statement the migrations send for `dialect`, answering each with no rows. */
function migrationText(dialect: Dialect): string[] {
  const sent: string[] = [];
  for (const migration of MIGRATIONS) {
    runProgram(migration(dialect.types), (statement) => (sent.push(statement.sql), []));
  }
  return sent;
}

function withDb<T>(work: (db: DatabaseSync, exec: (statement: Statement) => Record<string, unknown>[]) => T): T {
  const db = new DatabaseSync(":memory:");
  try {
    return work(db, ({ sql, params }) => db.prepare(sql).all(...params as string[]));
  } finally {
    db.close();
  }
}

Deno.test("sqlTimestamp() writes YYYY-MM-DD HH:MM:SS in UTC, seconds truncated", () => {
  assert.equal(sqlTimestamp(0), "1970-01-01 00:00:00");
  assert.equal(sqlTimestamp(Date.UTC(2026, 10, 22, 13, 5, 9, 999)), "2026-11-22 13:05:09");
});

Deno.test("the migrations are written once, with every column type substituted per dialect", async (t) => {
  for (const [name, dialect] of [["sqlite", SQLITE_DIALECT], ["postgres", POSTGRES_DIALECT]] as const) {
    await t.step(name, () => {
      const text = migrationText(dialect).join("\n");
      assert.ok(!/\{\w+\}/.test(text), "no placeholder left");
      assert.ok(text.includes(`kid ${dialect.types.id}`));
      assert.ok(text.includes(`key ${dialect.types.blob} NOT NULL`));
      assert.ok(text.includes(`date_registered ${dialect.types.timestamp} DEFAULT ${dialect.types.now}`));
    });
  }
});

Deno.test("checkContractColumns() refuses a contract table with other columns and ignores the rest", () => {
  checkContractColumns(new Map(Object.entries(CONTRACT_COLUMNS)), '"x.db"');
  checkContractColumns(new Map([["jwks_settings", ["name", "value"]], ["other", ["a"]]]), '"x.db"');
  assert.throws(
    () => checkContractColumns(new Map([["users", ["id", "username"]]]), '"x.db"'),
    (error: AppError) =>
      error.code === "corrupt_data" &&
      error.message === 'Table "users" in "x.db" has columns (id, username), expected (id, username, ' +
          "password_hash, email, date_registered, last_login)",
  );
  assert.throws(
    () => checkContractColumns(new Map([["keys", ["key", "kid", "exp"]]]), '"x.db"'),
    /has columns \(key, kid, exp\)/,
    "the order counts",
  );
});

Deno.test("openDatabase() migrates a new database once and stores the canary once", () => {
  withDb((db, exec) => {
    runProgram(openDatabase(SQLITE_DIALECT, secret, '"memory"'), exec);
    const version = db.prepare(SQLITE_DIALECT.readVersion).get()!.version;
    assert.equal(version, MIGRATIONS.length);
    const canary = db.prepare("SELECT value FROM jwks_settings WHERE name = 'secret_check'").all();
    runProgram(openDatabase(SQLITE_DIALECT, secret, '"memory"'), exec);
    assert.deepEqual(db.prepare("SELECT value FROM jwks_settings WHERE name = 'secret_check'").all(), canary);
    assert.equal(runProgram(inspectDatabase(SQLITE_DIALECT, secret, '"memory"'), exec), true);
    assert.throws(
      () => runProgram(inspectDatabase(SQLITE_DIALECT, secretCheck(createSealer("other")), '"memory"'), exec),
      (error: AppError) => error.code === "wrong_secret",
    );
  });
});

Deno.test("migration 2 carries a SQLite database's keys version into jwks_counters", () => {
  withDb((db, exec) => {
    runProgram(MIGRATIONS[0]!(SQLITE_DIALECT.types), exec);
    db.exec("INSERT INTO jwks_settings (name, value) VALUES ('keys_version', 41)");
    runProgram(MIGRATIONS[1]!(SQLITE_DIALECT.types), exec);
    assert.deepEqual(
      db.prepare("SELECT name, value FROM jwks_counters").all().map((row) => [row.name, row.value]),
      [["keys_version", 41]],
    );
    assert.deepEqual(db.prepare("SELECT name FROM jwks_settings").all(), [], "jwks_settings keeps only blobs");
  });
});

Deno.test("the names migration keys existing users oldest first; case twins keep logging in by their exact name", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/names.db`;
  try {
    const db = new DatabaseSync(file);
    const exec = ({ sql, params }: Statement) => db.prepare(sql).all(...params as string[]);
    const names = MIGRATIONS.findIndex((migration) => migration.name === "caseInsensitiveNames");
    assert.ok(names > 0, "the migration is released");
    for (const migration of MIGRATIONS.slice(0, names)) runProgram(migration(SQLITE_DIALECT.types), exec);
    db.exec(`PRAGMA user_version = ${names}`);
    const insert = db.prepare("INSERT INTO users (username, password_hash, email) VALUES (?, 'h', ?)");
    insert.run("Alice", "alice@example.com");
    insert.run("alice", "ALICE@example.com");
    insert.run("bob", null);
    db.close();

    const store = openSqliteStore(file, { secret });
    try {
      assert.equal((await store.findUser("Alice"))?.id, 1);
      assert.equal((await store.findUser("alice"))?.id, 2, "the younger twin by its exact name");
      assert.equal((await store.findUser("ALICE"))?.id, 1, "any other spelling is the oldest account");
      assert.equal((await store.findUser("BOB"))?.id, 3);
      await assert.rejects(
        store.createUser({ username: "aLiCe", email: null, passwordHash: "h" }, 0),
        (error: AppError) => error.code === "conflict" && error.field === "username",
      );
      await assert.rejects(
        store.createUser({ username: "carol", email: "Alice@Example.com", passwordHash: "h" }, 0),
        (error: AppError) => error.code === "conflict" && error.field === "email",
      );
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
