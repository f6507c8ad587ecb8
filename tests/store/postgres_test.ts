import assert from "node:assert/strict";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import type { AppError } from "../../lib/core/errors.ts";
import type { KeyEvent } from "../../lib/keys/key_events.ts";
import { KeyManager } from "../../lib/keys/key_manager.ts";
import { keyState } from "../../lib/core/key_lifecycle.ts";
import { lifecyclePolicy } from "../../lib/core/key_policy.ts";
import { numberPlaceholders, openPostgresStore, POSTGRES_DIALECT, postgresBackend } from "../../lib/store/postgres.ts";
import { findBackend } from "../../lib/store/registry.ts";
import { MIGRATIONS } from "../../lib/store/schema.ts";
import type { Store } from "../../lib/store/ports.ts";
import { freshKey, T0, testClock } from "../support/helpers.ts";
import {
  createSchema,
  dropSchema,
  postgresService,
  query,
  schemaName,
  searchPathUrl,
  withSchema,
} from "../support/services.ts";
import { insert } from "../support/store_contract.ts";

const postgres = await postgresService("postgres_store_test");
const ignore = postgres.url === null;
const sealer = createSealer("postgres store test secret");
const secret = secretCheck(sealer);

/** A fresh schema on the test server, dropped by `dispose`. */
function freshSchema(): { url: string; schema: string; dispose: () => Promise<void> } {
  const schema = schemaName();
  return { url: withSchema(postgres.url!, schema), schema, dispose: () => dropSchema(postgres.url!, schema) };
}

/** Runs `fn` with a fresh schema that is dropped afterwards. */
function pgTest(name: string, fn: (target: { url: string; schema: string }) => Promise<void>): void {
  Deno.test({
    name,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { url, schema, dispose } = freshSchema();
      try {
        await fn({ url, schema });
      } finally {
        await dispose();
      }
    },
  });
}

pgTest("the schema has the contract tables, columns in order, in Postgres types", async ({ url, schema }) => {
  const store = await openPostgresStore(url, { secret });
  await store.close();
  const columns = await query(
    postgres.url!,
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = $1 AND table_name IN ('keys', 'users', 'auth_logs') ORDER BY table_name, ordinal_position`,
    [schema],
  );
  const shape = (table: string) =>
    columns.filter((c) => c.table_name === table).map((c) => `${c.column_name} ${c.data_type} ${c.is_nullable}`);
  assert.deepEqual(shape("keys"), ["kid bigint NO", "key bytea NO", "exp bigint NO"]);
  assert.deepEqual(shape("users"), [
    "id bigint NO",
    "username text NO",
    "password_hash text NO",
    "email text YES",
    "date_registered timestamp without time zone YES",
    "last_login timestamp without time zone YES",
  ]);
  assert.deepEqual(shape("auth_logs"), [
    "id bigint NO",
    "request_ip text NO",
    "request_timestamp timestamp without time zone YES",
    "user_id bigint YES",
  ]);
  const constraints = await query(
    postgres.url!,
    `SELECT tc.table_name, tc.constraint_type, string_agg(kcu.column_name::text, ',') AS columns
       FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
      WHERE tc.table_schema = $1 AND tc.table_name IN ('keys', 'users', 'auth_logs')
      GROUP BY tc.table_name, tc.constraint_type, tc.constraint_name
      ORDER BY 1, 2, 3`,
    [schema],
  );
  assert.deepEqual(constraints.map((c) => `${c.table_name} ${c.constraint_type} ${c.columns}`), [
    "auth_logs FOREIGN KEY user_id",
    "auth_logs PRIMARY KEY id",
    "keys PRIMARY KEY kid",
    "users PRIMARY KEY id",
    "users UNIQUE email",
    "users UNIQUE username",
  ]);
});

Deno.test("the grader's key insert line runs on PostgreSQL with its placeholders numbered", () => {
  assert.equal(
    numberPlaceholders("INSERT INTO keys (kid, key, exp) VALUES (?, ?, ?)"),
    "INSERT INTO keys (kid, key, exp) VALUES ($1, $2, $3)",
  );
  assert.equal(
    numberPlaceholders("SELECT '?', \"a?\", ? FROM t WHERE x = 'it''s ?' AND y = ?"),
    "SELECT '?', \"a?\", $1 FROM t WHERE x = 'it''s ?' AND y = $2",
    "quoted text keeps its question marks",
  );
});

pgTest("three stores opening one empty schema at once migrate it exactly once", async ({ url, schema }) => {
  const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url, { secret })));
  try {
    const rows = await query(
      searchPathUrl(postgres.url!, schema),
      `SELECT (SELECT COUNT(*) FROM jwks_migrations) AS migrations,
              (SELECT COUNT(*) FROM jwks_settings WHERE name = 'secret_check') AS canaries`,
    );
    assert.deepEqual(rows.map((row) => [Number(row.migrations), Number(row.canaries)]), [[MIGRATIONS.length, 1]]);
    const versions = await query(
      searchPathUrl(postgres.url!, schema),
      "SELECT version FROM jwks_migrations ORDER BY 1",
    );
    assert.deepEqual(versions.map((row) => row.version), MIGRATIONS.map((_, i) => i + 1), "each migration once");
    await stores[0]!.updateKeys(() => ({ inserts: [insert("a", 1)], updates: [], deletes: [] }));
    for (const store of stores) assert.deepEqual((await store.listKeys()).map((key) => key.kid), ["a"]);
    const again = await openPostgresStore(url, { secret });
    assert.deepEqual((await again.listKeys()).map((key) => key.kid), ["a"], "reopening keeps the data");
    await again.close();
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
});

pgTest("every instance sees another instance's key change through the keys version", async ({ url }) => {
  const [a, b] = await Promise.all([openPostgresStore(url, { secret }), openPostgresStore(url, { secret })]);
  try {
    const before = await b.keysVersion();
    await a.updateKeys(() => ({ inserts: [insert("a", 1)], updates: [], deletes: [] }));
    assert.notEqual(await b.keysVersion(), before);
    assert.equal(await b.keysVersion(), await a.keysVersion());
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

pgTest("a wrong master secret is refused before anything is written", async ({ url, schema }) => {
  const store = await openPostgresStore(url, { secret });
  await store.updateKeys(() => ({ inserts: [insert("a", 1)], updates: [], deletes: [] }));
  await store.close();
  const snapshot = () =>
    query(
      searchPathUrl(postgres.url!, schema),
      `SELECT (SELECT string_agg(kid || ':' || encode(key, 'hex'), ',') FROM keys) AS keys,
              (SELECT string_agg(name || ':' || encode(value, 'hex'), ',') FROM jwks_settings) AS settings,
              (SELECT COUNT(*) FROM jwks_migrations) AS migrations`,
    );
  const before = await snapshot();
  await assert.rejects(
    openPostgresStore(url, { secret: secretCheck(createSealer("a different secret")) }),
    (error: AppError) => error.code === "wrong_secret" && /NOT_MY_KEY does not match/.test(error.message),
  );
  assert.deepEqual(await snapshot(), before);
});

pgTest("a contract table with other columns is refused, naming the table", async ({ url, schema }) => {
  await createSchema(postgres.url!, schema);
  await query(
    searchPathUrl(postgres.url!, schema),
    "CREATE TABLE keys(kid BIGINT PRIMARY KEY, key BYTEA, exp BIGINT, extra TEXT)",
  );
  await assert.rejects(
    openPostgresStore(url, { secret }),
    (error: AppError) =>
      error.code === "corrupt_data" && /Table "keys" in .* has columns \(kid, key, exp, extra\)/.test(error.message),
  );
});

pgTest("rows another program left in keys are ignored and never share an id with ours", async ({ url, schema }) => {
  const store = await openPostgresStore(url, { secret });
  try {
    const raw = searchPathUrl(postgres.url!, schema);
    await query(raw, "INSERT INTO keys (kid, key, exp) VALUES ($1, $2, $3)", [50, new Uint8Array([1]), 1]);
    assert.deepEqual(await store.listKeys(), []);
    const { insertedIds } = await store.updateKeys(() => ({ inserts: [insert("a", 1)], updates: [], deletes: [] }));
    assert.deepEqual(insertedIds, [51]);
    await store.updateKeys(() => ({ inserts: [], updates: [], deletes: [51] }));
    const next = await store.updateKeys(() => ({ inserts: [insert("b", 1)], updates: [], deletes: [] }));
    assert.deepEqual(next.insertedIds, [52], "a purged id is not handed out again");
  } finally {
    await store.close();
  }
});

pgTest("the description names the database without its password", async ({ url }) => {
  const withPassword = new URL(url);
  withPassword.username = "postgres";
  withPassword.password = "hunter2-not-shown";
  const store = await openPostgresStore(withPassword.href, { secret });
  try {
    assert.ok(!store.description.includes("hunter2"), store.description);
    assert.match(store.description, /^postgres(ql)?:\/\/postgres@.*schema=jwks_test_/);
  } finally {
    await store.close();
  }
  await store.close();
  await assert.rejects(store.ping(), (error: AppError) => error.code === "unavailable");
});

const policy = lifecyclePolicy({ rotationInterval: 600, tokenTtl: 60, clockSkew: 10, retention: 3600, alg: "EdDSA" });

/** Three instances: their own store (own connections), key manager and log of key events. */
async function threeInstances(url: string, clock: () => number) {
  return await Promise.all([1, 2, 3].map(async () => {
    const store: Store = await openPostgresStore(url, { secret, poolSize: 2 });
    const events: KeyEvent[] = [];
    const keys = new KeyManager({
      store,
      sealer,
      policy,
      clock,
      generate: freshKey,
      onEvent: (event) => events.push(event),
    });
    return { store, keys, events };
  }));
}

pgTest("three instances bootstrapping one empty database create the keys one would", async ({ url }) => {
  const clock = testClock();
  const instances = await threeInstances(url, clock);
  try {
    await Promise.all(instances.map((instance) => instance.keys.apply()));
    const created = instances.flatMap((instance) => instance.events.filter((e) => e.event === "key_created"));
    assert.equal(created.length, 3, "an active key, a next key and an expired key, once");
    const keys = await instances[0]!.store.listKeys();
    const now = Math.floor(clock() / 1000);
    assert.deepEqual(keys.map((key) => keyState(key, now)).sort(), ["active", "expired", "next"]);
    const views = instances.map((instance) => instance.keys.view());
    assert.equal(new Set(views.map((view) => view.active?.kid)).size, 1, "every instance signs with the same key");
    assert.equal(new Set(views.map((view) => view.jwks.etag)).size, 1, "and publishes the same JWKS");
  } finally {
    await Promise.all(instances.map((instance) => instance.store.close()));
  }
});

pgTest("a rotation step that falls due on three instances at once runs exactly once", async ({ url }) => {
  const clock = testClock(T0);
  const instances = await threeInstances(url, clock);
  try {
    await instances[0]!.keys.apply();
    await Promise.all(instances.map((instance) => instance.keys.sync()));
    const firstActive = instances[0]!.keys.view().active!.kid;
    const bootstrapped = (await instances[0]!.store.listKeys()).length;
    for (const instance of instances) instance.events.length = 0;

    clock.advance(policy.rotationInterval * 1000 + 1000);
    const results = await Promise.all(instances.map((instance) => instance.keys.apply()));
    assert.equal(results.filter((result) => result.changed).length, 1, "one instance performs the step");
    const created = instances.flatMap((instance) => instance.events.filter((e) => e.event === "key_created"));
    assert.equal(created.length, 1, "one new next key, not three");
    const keys = await instances[1]!.store.listKeys();
    assert.equal(keys.length, bootstrapped + 1);
    const now = Math.floor(clock() / 1000);
    assert.equal(keys.filter((key) => keyState(key, now) === "active").length, 1, "exactly one active key");
    assert.equal(keys.filter((key) => keyState(key, now) === "next").length, 1, "exactly one next key");

    await Promise.all(instances.map((instance) => instance.keys.sync()));
    const views = instances.map((instance) => instance.keys.view());
    assert.equal(new Set(views.map((view) => view.active!.kid)).size, 1);
    assert.notEqual(views[0]!.active!.kid, firstActive, "the next key took over");
    assert.equal(new Set(views.map((view) => view.jwks.etag)).size, 1);
  } finally {
    await Promise.all(instances.map((instance) => instance.store.close()));
  }
});

Deno.test("an unreachable server is reported as unavailable, quickly and without the password", async () => {
  await assert.rejects(
    openPostgresStore("postgres://jwks:s3cret-pw@127.0.0.1:1/nowhere", { secret, connectTimeoutMs: 2000 }),
    (error: AppError) =>
      error.code === "unavailable" && error.message.includes("127.0.0.1:1") && !error.message.includes("s3cret-pw"),
  );
});

Deno.test("a schema that is not a plain identifier is refused as configuration", async () => {
  await assert.rejects(
    openPostgresStore('postgres://127.0.0.1/test?schema=x";drop', { secret }),
    (error: AppError) => error.code === "invalid_config" && /must be a plain identifier/.test(error.message),
  );
  assert.ok(postgresBackend.matches("postgres://h/db") && postgresBackend.matches("postgresql://h/db"));
  assert.ok(!postgresBackend.matches("./totally_not_my_privateKeys.db"));
  assert.equal(findBackend("POSTGRES://h/db"), postgresBackend);
});

Deno.test("a unique violation names its column the way the SQLite dialect does", () => {
  const violation = (constraint: string, table = "users", code = "23505") =>
    POSTGRES_DIALECT.uniqueViolation(Object.assign(new Error("duplicate key"), { code, table, constraint }));
  assert.equal(violation("users_email_key"), "users.email");
  assert.equal(violation("users_username_key"), "users.username");
  assert.equal(violation("users_pkey"), "users.pkey", "a primary key, as the SQLite dialect names its first column");
  assert.equal(violation("users_email_key", "users", "23503"), null, "not a unique violation");
  assert.equal(POSTGRES_DIALECT.uniqueViolation(new Error("UNIQUE constraint failed: users.email")), null);
});
