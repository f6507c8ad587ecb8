/**
 * The storage contract: every `Store` implementation must pass these.
 * {@linkcode storeContractForEveryBackend} runs them against every backend of the registry,
 * opened through the registry, with the harness below that makes its fresh, empty databases
 * and reads them back raw; a backend without a harness fails. {@linkcode storeContract} runs
 * them for one factory.
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { AppError } from "../../lib/core/errors.ts";
import type { KeyRecord } from "../../lib/core/key_lifecycle.ts";
import type { PublicJwk } from "../../lib/core/key_material.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import type { KeyInsert, Store } from "../../lib/store/ports.ts";
import { BACKENDS, openStore } from "../../lib/store/registry.ts";
import { dropSchema, postgresService, query, schemaName, searchPathUrl, withSchema } from "./services.ts";

/** Raw reads of what a store wrote, for the parts of the contract the ports cannot show. */
export interface StoreInspector {
  /** `auth_logs` rows in id order, timestamps as `YYYY-MM-DD HH:MM:SS` text. */
  authLogs(): Promise<{ ip: string; at: string; userId: number | null }[]>;
  /** `users.date_registered` and `users.last_login` of `username`, as text (null when NULL). */
  userTimes(username: string): Promise<{ registered: string | null; lastLogin: string | null }>;
}

/** Makes an empty store, a function that disposes of it, and (ideally) an inspector. */
export type StoreFactory = () => Promise<{ store: Store; dispose: () => Promise<void>; inspect?: StoreInspector }>;

const jwk = (kid: string): PublicJwk => ({ kty: "OKP", kid, use: "sig", alg: "EdDSA", crv: "Ed25519", x: kid });

/** A key insert with times relative to `t`, sealing "secret-<id>" as the blob. */
export function insert(kid: string, t: number, overrides: Partial<KeyInsert> = {}): KeyInsert {
  return {
    kid,
    alg: "EdDSA",
    publicJwk: jwk(kid),
    createdAt: t,
    activatesAt: t,
    retiresAt: t + 600,
    exp: t + 900,
    seal: (id) => new TextEncoder().encode(`sealed-${id}`),
    ...overrides,
  };
}

const noChanges = { inserts: [], updates: [], deletes: [] };

/** Registers the contract tests for one implementation. */
export function storeContract(name: string, factory: StoreFactory, options: { ignore?: boolean } = {}): void {
  const test = (title: string, fn: (store: Store, inspect: StoreInspector | undefined) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore: options.ignore ?? false,
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        const { store, dispose, inspect } = await factory();
        try {
          await fn(store, inspect);
        } finally {
          await dispose();
        }
      },
    });

  test("a new store has no keys and version 0", async (store) => {
    assert.deepEqual(await store.listKeys(), []);
    assert.equal(await store.keysVersion(), 0);
    await store.ping();
  });

  test("updateKeys() inserts keys, sealing each blob for its own row id", async (store) => {
    const applied = await store.updateKeys(() => ({ ...noChanges, inserts: [insert("a", 100), insert("b", 100)] }));
    assert.equal(applied.insertedIds.length, 2);
    const keys = await store.listKeys();
    assert.deepEqual(keys.map((key) => key.kid), ["a", "b"]);
    for (const key of keys) {
      assert.equal(new TextDecoder().decode(key.blob), `sealed-${key.id}`);
      assert.equal(key.exp, 1000);
      assert.equal(key.activatesAt, 100);
      assert.equal(key.retiresAt, 700);
      assert.equal(key.revokedAt, null);
      assert.deepEqual(key.publicJwk, jwk(key.kid));
    }
    assert.deepEqual(applied.insertedIds, keys.map((key) => key.id));
  });

  test("the keys version changes with every change and not without one", async (store) => {
    const v0 = await store.keysVersion();
    await store.updateKeys(() => noChanges);
    assert.equal(await store.keysVersion(), v0);
    await store.updateKeys(() => ({ ...noChanges, inserts: [insert("a", 1)] }));
    const v1 = await store.keysVersion();
    assert.notEqual(v1, v0);
    const [key] = await store.listKeys();
    await store.updateKeys(() => ({
      ...noChanges,
      updates: [{ id: key!.id, activatesAt: 2, retiresAt: 3, exp: 4, revokedAt: 3 }],
    }));
    assert.notEqual(await store.keysVersion(), v1);
    const [updated] = await store.listKeys();
    assert.deepEqual(
      [updated!.activatesAt, updated!.retiresAt, updated!.exp, updated!.revokedAt],
      [2, 3, 4, 3],
    );
  });

  test("deleted keys are gone and their ids are never reused", async (store) => {
    await store.updateKeys(() => ({ ...noChanges, inserts: [insert("a", 1), insert("b", 1)] }));
    const [a, b] = await store.listKeys();
    await store.updateKeys(() => ({ ...noChanges, deletes: [b!.id] }));
    assert.deepEqual((await store.listKeys()).map((key) => key.kid), ["a"]);
    await store.updateKeys(() => ({ ...noChanges, inserts: [insert("c", 1)] }));
    const c = (await store.listKeys()).find((key) => key.kid === "c")!;
    assert.ok(c.id > b!.id, "a purged id is not handed out again (its old blob was bound to it)");
    assert.ok(a!.id < b!.id);
  });

  test("the plan runs on the rows the transaction sees and a failing plan changes nothing", async (store) => {
    await store.updateKeys(() => ({ ...noChanges, inserts: [insert("a", 1)] }));
    let seen: readonly KeyRecord[] = [];
    await assert.rejects(
      store.updateKeys((keys) => {
        seen = keys;
        throw new AppError("conflict", "planned failure");
      }),
      /planned failure/,
    );
    assert.deepEqual(seen.map((key) => key.kid), ["a"]);
    await assert.rejects(
      store.updateKeys(() => ({ ...noChanges, inserts: [insert("b", 1), insert("a", 1)] })),
      "a duplicate thumbprint fails the whole transaction",
    );
    assert.deepEqual((await store.listKeys()).map((key) => key.kid), ["a"]);
  });

  test("concurrent updateKeys() calls are serialized: each sees the other's rows", async (store) => {
    const plan = (keys: readonly KeyRecord[]) =>
      keys.length === 0 ? { ...noChanges, inserts: [insert(`k${Math.random()}`, 1)] } : noChanges;
    await Promise.all([store.updateKeys(plan), store.updateKeys(plan), store.updateKeys(plan)]);
    assert.equal((await store.listKeys()).length, 1);
  });

  test("createUser() stores a user and refuses a duplicate username or email", async (store) => {
    const user = await store.createUser({ username: "alice", email: "a@example.com", passwordHash: "h1" }, 0);
    assert.equal(user.username, "alice");
    assert.equal(user.email, "a@example.com");
    assert.equal(user.passwordHash, "h1");
    assert.deepEqual(await store.findUser("alice"), user);
    assert.deepEqual(await store.findUser("ALICE"), user, "names compare whatever their case");
    assert.deepEqual(await store.findUser("\uff41\uff4c\uff49\uff43\uff45"), user, "and whatever their Unicode form");
    assert.equal(await store.findUser("' OR 1=1 --"), null);
    for (
      const [username, email, field] of [["Alice", "c@example.com", "username"], ["eve", "A@EXAMPLE.com", "email"]]
    ) {
      await assert.rejects(
        store.createUser({ username: username!, email: email!, passwordHash: "h" }, 0),
        (error: AppError) => error.code === "conflict" && error.field === field,
        `${username} ${email}`,
      );
    }
    await assert.rejects(
      store.createUser({ username: "alice", email: "b@example.com", passwordHash: "h" }, 0),
      (error: AppError) => error.code === "conflict" && error.field === "username",
    );
    await assert.rejects(
      store.createUser({ username: "bob", email: "a@example.com", passwordHash: "h" }, 0),
      (error: AppError) => error.code === "conflict" && error.field === "email",
    );
    const noEmail = await store.createUser({ username: "carol", email: null, passwordHash: "h" }, 0);
    const noEmail2 = await store.createUser({ username: "dave", email: null, passwordHash: "h" }, 0);
    assert.equal(noEmail.email, null);
    assert.notEqual(noEmail.id, noEmail2.id);
  });

  test("upsertUser() creates or replaces the password hash, keeping the id", async (store) => {
    const created = await store.upsertUser({ username: "userABC", email: null, passwordHash: "h1" }, 0);
    const updated = await store.upsertUser({ username: "userABC", email: null, passwordHash: "h2" }, 0);
    assert.equal(updated.id, created.id);
    assert.equal(updated.passwordHash, "h2");
    const recased = await store.upsertUser({ username: "USERabc", email: null, passwordHash: "h3" }, 0);
    assert.deepEqual([recased.id, recased.username, recased.passwordHash], [created.id, "userABC", "h3"]);
  });

  test("recordLogins() writes one auth_logs row per login and moves last_login", async (store, inspect) => {
    const user = await store.createUser({ username: "alice", email: null, passwordHash: "h" }, Date.UTC(2026, 0, 1));
    const other = await store.createUser({ username: "bob", email: null, passwordHash: "h" }, Date.UTC(2026, 0, 1));
    await store.recordLogins([]);
    assert.deepEqual(await inspect?.authLogs() ?? [], []);
    await store.recordLogins([
      { userId: user.id, ip: "10.0.0.1", at: Date.UTC(2026, 0, 2, 3, 4, 5, 900) },
      { userId: null, ip: "::1", at: Date.UTC(2026, 0, 2, 3, 4, 6) },
      { userId: user.id, ip: "203.0.113.7", at: Date.UTC(2026, 0, 2, 3, 4, 7) },
    ]);
    if (inspect === undefined) return;
    assert.deepEqual(await inspect.authLogs(), [
      { ip: "10.0.0.1", at: "2026-01-02 03:04:05", userId: user.id },
      { ip: "::1", at: "2026-01-02 03:04:06", userId: null },
      { ip: "203.0.113.7", at: "2026-01-02 03:04:07", userId: user.id },
    ]);
    assert.deepEqual(await inspect.userTimes("alice"), {
      registered: "2026-01-01 00:00:00",
      lastLogin: "2026-01-02 03:04:07",
    });
    assert.deepEqual(await inspect.userTimes("bob"), { registered: "2026-01-01 00:00:00", lastLogin: null });
    await store.recordLogins([{ userId: other.id, ip: "10.0.0.2", at: Date.UTC(2026, 0, 3) }]);
    assert.equal((await inspect.authLogs()).length, 4);
    assert.equal((await inspect.userTimes("bob")).lastLogin, "2026-01-03 00:00:00");
  });

  test("a login for a user that does not exist fails the whole batch", async (store, inspect) => {
    await assert.rejects(store.recordLogins([
      { userId: null, ip: "10.0.0.1", at: 0 },
      { userId: 987_654, ip: "10.0.0.2", at: 0 },
    ]));
    assert.deepEqual(await inspect?.authLogs() ?? [], []);
  });
}

/** A secret check every contract store is opened with. */
export const contractSecret = secretCheck(createSealer("store contract test secret"));

/** Reads the SQLite file at `path` through a second connection, as the course grader does. */
export function inspectSqliteFile(path: string): StoreInspector {
  const read = <T>(work: (db: DatabaseSync) => T): Promise<T> => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return Promise.resolve(work(db));
    } finally {
      db.close();
    }
  };
  return {
    authLogs: () =>
      read((db) =>
        db.prepare("SELECT request_ip, request_timestamp, user_id FROM auth_logs ORDER BY id").all().map((row) => ({
          ip: row.request_ip as string,
          at: row.request_timestamp as string,
          userId: row.user_id === null ? null : Number(row.user_id),
        }))
      ),
    userTimes: (username) =>
      read((db) => {
        const row = db.prepare("SELECT date_registered, last_login FROM users WHERE username = ?").get(username)!;
        return { registered: row.date_registered as string | null, lastLogin: row.last_login as string | null };
      }),
  };
}

/** Reads what a store wrote in PostgreSQL `schema` (on the server at `url`) through a connection of its own. */
export function inspectPostgresSchema(url: string, schema: string): StoreInspector {
  const read = (sql: string, params: unknown[] = []) => query(searchPathUrl(url, schema), sql, params);
  return {
    async authLogs() {
      const rows = await read(
        `SELECT request_ip, to_char(request_timestamp, 'YYYY-MM-DD HH24:MI:SS') AS at, user_id
           FROM auth_logs ORDER BY id`,
      );
      return rows.map((row) => ({
        ip: row.request_ip,
        at: row.at,
        userId: row.user_id === null ? null : Number(row.user_id),
      }));
    },
    async userTimes(username) {
      const [row] = await read(
        `SELECT to_char(date_registered, 'YYYY-MM-DD HH24:MI:SS') AS registered,
                to_char(last_login, 'YYYY-MM-DD HH24:MI:SS') AS last_login
           FROM users WHERE username = $1`,
        [username],
      );
      return { registered: row!.registered, lastLogin: row!.last_login };
    },
  };
}

/** One way to run the contract on a backend: a name and a factory, or why it is skipped. */
export interface ContractTarget {
  readonly name: string;
  readonly factory: StoreFactory;
  readonly ignore: boolean;
}

/** Opens `url` through the registry, as the server does. */
const open = (url: string) => openStore(url, { secret: contractSecret });

/**
 * For each backend (by `StoreBackend.name`), the databases the contract runs on. A new backend
 * adds its entry here: fresh empty databases it can open by URL, and raw reads of them.
 */
export const CONTRACT_HARNESSES: Readonly<Record<string, () => Promise<ContractTarget[]>>> = {
  SQLite: () =>
    Promise.resolve([
      {
        name: "sqlite (memory)",
        ignore: false,
        factory: async () => {
          const store = await open(":memory:");
          return { store, dispose: () => store.close() };
        },
      },
      {
        name: "sqlite (file)",
        ignore: false,
        factory: async () => {
          const dir = await Deno.makeTempDir();
          const store = await open(`${dir}/t.db`);
          return {
            store,
            inspect: inspectSqliteFile(`${dir}/t.db`),
            dispose: async () => (await store.close(), await Deno.remove(dir, { recursive: true })),
          };
        },
      },
    ]),
  PostgreSQL: async () => {
    const postgres = await postgresService("store contract");
    return [{
      name: "postgres",
      ignore: postgres.url === null,
      factory: async () => {
        const schema = schemaName();
        const store = await open(withSchema(postgres.url!, schema));
        return {
          store,
          inspect: inspectPostgresSchema(postgres.url!, schema),
          dispose: async () => (await store.close(), await dropSchema(postgres.url!, schema)),
        };
      },
    }];
  },
};

/** Registers the contract for every backend in the registry; a backend without a harness fails. */
export async function storeContractForEveryBackend(): Promise<void> {
  for (const backend of BACKENDS) {
    const harness = CONTRACT_HARNESSES[backend.name];
    if (harness === undefined) {
      Deno.test(`${backend.name}: has a contract harness`, () => {
        assert.fail(`Add "${backend.name}" to CONTRACT_HARNESSES in tests/support/store_contract.ts`);
      });
      continue;
    }
    for (const target of await harness()) storeContract(target.name, target.factory, { ignore: target.ignore });
  }
}
