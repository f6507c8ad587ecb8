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
import type {
  AuthorizationCodeRecord,
  ClientRecord,
  GrantRecord,
  RefreshTokenInsert,
} from "../../lib/store/oauth_ports.ts";
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

  test("a batch of any size is written whole, in order, across its multi-row statements", async (store, inspect) => {
    const alice = await store.createUser({ username: "alice", email: null, passwordHash: "h" }, 0);
    const bob = await store.createUser({ username: "bob", email: null, passwordHash: "h" }, 0);
    // 64 + 64 + 16 + 4 + 1 + 1 + (the next batch) 3 × 1: every statement size, several times.
    const start = Date.UTC(2026, 0, 2);
    const events = Array.from({ length: 150 }, (_, i) => ({
      userId: i % 3 === 0 ? alice.id : i % 3 === 1 ? bob.id : null,
      ip: `10.0.${i >> 8}.${i & 255}`,
      // Three logins per second and one a minute early: last_login is the latest, not the last.
      at: start + Math.floor(i / 3) * 1000 + (i % 3) * 100 - (i === 148 ? 60_000 : 0),
    }));
    await store.recordLogins(events);
    await store.recordLogins(events.slice(0, 3));
    if (inspect === undefined) return;
    const rows = await inspect.authLogs();
    const expected = [...events, ...events.slice(0, 3)].map((event) => ({
      ip: event.ip,
      at: new Date(event.at).toISOString().slice(0, 19).replace("T", " "),
      userId: event.userId,
    }));
    assert.equal(rows.length, 153);
    assert.deepEqual(rows, expected);
    assert.equal((await inspect.userTimes("alice")).lastLogin, expected[147]!.at);
    assert.equal((await inspect.userTimes("bob")).lastLogin, expected[145]!.at, "148 went back a minute");
  });

  test("a login for a user that does not exist fails the whole batch", async (store, inspect) => {
    await assert.rejects(store.recordLogins([
      { userId: null, ip: "10.0.0.1", at: 0 },
      { userId: 987_654, ip: "10.0.0.2", at: 0 },
    ]));
    assert.deepEqual(await inspect?.authLogs() ?? [], []);
  });

  test("the key policy is stored with a key change, in its transaction, and read back", async (store) => {
    assert.equal(await store.keyPolicy(), null, "a new store has none");
    const policy = {
      rotationInterval: 120,
      tokenTtl: 60,
      clockSkew: 5,
      retention: 3600,
      alg: "ES256",
      cachedMaxAge: 300,
      cachedUntil: 1300,
      updatedAt: 1000,
    } as const;
    const v0 = await store.keysVersion();
    let seen: unknown = "not called";
    await store.updateKeys((_keys, stored) => ((seen = stored), { ...noChanges, policy }));
    assert.equal(seen, null);
    assert.deepEqual(await store.keyPolicy(), policy);
    assert.notEqual(await store.keysVersion(), v0, "a policy change is a key-set change: others re-read it");
    await store.updateKeys((_keys, stored) => ((seen = stored), noChanges));
    assert.deepEqual(seen, policy);
    await assert.rejects(store.updateKeys(() => {
      throw new Error("plan failed");
    }));
    await store.updateKeys(() => ({ ...noChanges, policy: { ...policy, rotationInterval: 600, updatedAt: 2000 } }));
    assert.equal((await store.keyPolicy())!.rotationInterval, 600);
  });

  test("each key change keeps a note of who made it and why, under the version it made", async (store) => {
    const note = (reason: string, at: number) => ({ origin: "keys rotate (pid 1 on test)", reason, at });
    const first = await store.updateKeys(() => ({ ...noChanges, inserts: [insert("a", 1)], note: note("rotate", 5) }));
    const second = await store.updateKeys(() => ({ ...noChanges, inserts: [insert("b", 1)], note: note("import", 6) }));
    assert.ok(second.version > first.version);
    assert.deepEqual(second.keys.map((key) => key.kid), ["a", "b"], "the keys after the transaction");
    const unchanged = await store.updateKeys(() => ({ ...noChanges, note: note("maintain", 7) }));
    assert.equal(unchanged.version, second.version, "no change, no version and no note");
    assert.deepEqual(await store.keyChanges(first.version - 1), [
      { version: first.version, ...note("rotate", 5) },
      { version: second.version, ...note("import", 6) },
    ]);
    assert.deepEqual(await store.keyChanges(second.version), []);
  });

  test("resealKeys() seals every key and the canary again in one transaction, or none", async (store) => {
    const to = (text: string) => new TextEncoder().encode(text);
    await store.updateKeys(() => ({ ...noChanges, inserts: [insert("a", 1), insert("b", 1)] }));
    const before = await store.listKeys();
    const v0 = await store.keysVersion();
    const note = { origin: "secret rotate (pid 1)", reason: "reseal", at: 9 };
    await assert.rejects(
      store.resealKeys((kid) => {
        if (kid === before[1]!.id) throw new AppError("wrong_secret", "does not open");
        return to(`new-${kid}`);
      }, note),
      /does not open/,
    );
    assert.deepEqual((await store.listKeys()).map((key) => key.blob), before.map((key) => key.blob), "all or nothing");
    assert.equal(await store.keysVersion(), v0);
    const seen: (number | string)[] = [];
    const count = await store.resealKeys((kid) => (seen.push(kid), to(`new-${kid}`)), note);
    assert.equal(count, 3, "two keys and the canary");
    assert.deepEqual(seen, [...before.map((key) => key.id), "secret-check"]);
    const after = await store.listKeys();
    assert.deepEqual(after.map((key) => new TextDecoder().decode(key.blob)), before.map((key) => `new-${key.id}`));
    assert.deepEqual(after.map((key) => key.kid), ["a", "b"], "kids and schedules are unchanged");
    assert.equal((await store.keyChanges(v0)).at(-1)?.reason, "reseal");
    assert.equal(await store.resealKeys(() => null, note), 0, "nothing to do: nothing written");
    assert.equal((await store.keyChanges(v0)).length, 1);
  });

  test("pruneLogins() deletes the oldest rows past the retention, a batch at a time", async (store, inspect) => {
    const day = 86_400_000;
    const t0 = Date.UTC(2026, 0, 1);
    await store.recordLogins(
      Array.from({ length: 7 }, (_, i) => ({ userId: null, ip: `10.0.0.${i}`, at: t0 + i * day })),
    );
    assert.equal(await store.pruneLogins(t0 + 4 * day, 3), 3, "a full batch: maybe more to do");
    assert.equal(await store.pruneLogins(t0 + 4 * day, 3), 1, "caught up");
    assert.equal(await store.pruneLogins(t0 + 4 * day, 3), 0);
    const left = await inspect?.authLogs();
    if (left !== undefined) assert.deepEqual(left.map((row) => row.ip), ["10.0.0.4", "10.0.0.5", "10.0.0.6"]);
    await store.checkpoint();
  });

  oauthContract((title, fn) => test(title, (store) => fn(store)));
}

/** A client record for the OAuth part of the contract. */
export function clientRecord(id: string, overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    id,
    name: `client ${id}`,
    secretHash: new Uint8Array(32).fill(7),
    grantTypes: ["client_credentials", "refresh_token"],
    scopes: ["read", "offline_access"],
    redirectUris: ["https://app.example/cb"],
    audiences: ["https://api.example"],
    createdAt: 100,
    ...overrides,
  };
}

function grantRecord(id: string, clientId: string): GrantRecord {
  return {
    id,
    clientId,
    subject: "alice",
    userId: null,
    scope: "read offline_access",
    audience: ["https://api.example"],
    createdAt: 100,
    revokedAt: null,
  };
}

function refresh(hash: string, grantId: string, overrides: Partial<RefreshTokenInsert> = {}): RefreshTokenInsert {
  return {
    hash,
    grantId,
    createdAt: 100,
    expiresAt: 1000,
    accessJti: `jti-${hash}`,
    accessExp: 500,
    ...overrides,
  };
}

/** The OAuth part of the contract: clients, refresh-token rotation and reuse, revoked jtis, purge. */
function oauthContract(test: (title: string, fn: (store: Store) => Promise<void>) => void): void {
  test("OAuth clients are stored, listed, found and removed", async (store) => {
    assert.deepEqual(await store.oauth.listClients(), []);
    const a = clientRecord("a");
    const b = clientRecord("b", { secretHash: null, grantTypes: ["password"], createdAt: 200, audiences: [] });
    await store.oauth.createClient(b);
    await store.oauth.createClient(a);
    assert.deepEqual(await store.oauth.findClient("a"), a);
    assert.deepEqual(await store.oauth.findClient("b"), b, "a public client has no secret hash");
    assert.equal(await store.oauth.findClient("A"), null, "client ids are exact");
    assert.equal(await store.oauth.findClient("' OR 1=1 --"), null);
    assert.deepEqual((await store.oauth.listClients()).map((client) => client.id), ["a", "b"]);
    await assert.rejects(store.oauth.createClient(a), "an id is never stored twice");
    assert.equal(await store.oauth.removeClient("a", 300), true);
    assert.equal(await store.oauth.removeClient("a", 300), false);
    assert.deepEqual((await store.oauth.listClients()).map((client) => client.id), ["b"]);
  });

  test("a refresh token is claimed once; its successor carries the grant on", async (store) => {
    await store.oauth.createGrant(grantRecord("g1", "a"), refresh("h1", "g1"));
    const found = await store.oauth.findRefreshToken("h1", 200);
    assert.equal(found?.grant.subject, "alice");
    assert.deepEqual(found?.grant.audience, ["https://api.example"]);
    assert.equal(found?.expiresAt, 1000);
    const first = await store.oauth.useRefreshToken("h1", 200);
    assert.equal(first.status, "ok");
    assert.equal(first.status === "ok" && first.grant.id, "g1");
    assert.equal(await store.oauth.findRefreshToken("h1", 200), null, "a used token is no longer active");
    assert.equal(await store.oauth.addRefreshToken(refresh("h2", "g1", { accessJti: "jti-2" })), true);
    assert.equal((await store.oauth.useRefreshToken("h2", 300)).status, "ok");
    assert.deepEqual(await store.oauth.useRefreshToken("unknown", 300), { status: "invalid" });
  });

  test("a used refresh token presented again revokes its grant and the access tokens issued under it", async (s) => {
    await s.oauth.createGrant(grantRecord("g1", "a"), refresh("h1", "g1", { accessJti: "at-1", accessExp: 500 }));
    await s.oauth.useRefreshToken("h1", 200);
    await s.oauth.addRefreshToken(refresh("h2", "g1", { accessJti: "at-2", accessExp: 600 }));
    const reuse = await s.oauth.useRefreshToken("h1", 250);
    assert.equal(reuse.status, "reused");
    assert.equal(reuse.status === "reused" && reuse.grant.revokedAt, 250);
    assert.deepEqual(await s.oauth.useRefreshToken("h2", 260), { status: "invalid" }, "the successor is dead too");
    assert.equal(await s.oauth.findRefreshToken("h2", 260), null);
    assert.equal(await s.oauth.isAccessTokenRevoked("at-1"), true);
    assert.equal(await s.oauth.isAccessTokenRevoked("at-2"), true);
    assert.equal(
      await s.oauth.addRefreshToken(refresh("h3", "g1")),
      false,
      "a successor added after the revocation is refused",
    );
  });

  test("concurrent uses of one refresh token: exactly one is claimed, the other is a reuse", async (store) => {
    await store.oauth.createGrant(grantRecord("g1", "a"), refresh("h1", "g1"));
    const results = await Promise.all([store.oauth.useRefreshToken("h1", 200), store.oauth.useRefreshToken("h1", 200)]);
    assert.deepEqual(results.map((result) => result.status).sort(), ["ok", "reused"]);
  });

  test("expired and revoked refresh tokens cannot be used", async (store) => {
    await store.oauth.createGrant(grantRecord("g1", "a"), refresh("h1", "g1", { expiresAt: 300 }));
    assert.deepEqual(await store.oauth.useRefreshToken("h1", 300), { status: "invalid" });
    await store.oauth.createGrant(grantRecord("g2", "a"), refresh("h2", "g2"));
    await store.oauth.revokeGrant("g2", 200);
    assert.deepEqual(await store.oauth.useRefreshToken("h2", 201), { status: "invalid" });
    assert.equal(await store.oauth.isAccessTokenRevoked("jti-h2"), true);
  });

  test("removing a client revokes its grants", async (store) => {
    await store.oauth.createClient(clientRecord("a"));
    await store.oauth.createGrant(grantRecord("g1", "a"), refresh("h1", "g1"));
    await store.oauth.createGrant(grantRecord("g2", "b"), refresh("h2", "g2"));
    await store.oauth.removeClient("a", 200);
    assert.equal(await store.oauth.findRefreshToken("h1", 201), null);
    assert.notEqual(await store.oauth.findRefreshToken("h2", 201), null, "other clients' grants stand");
  });

  test("revoked jtis are kept until their exp, then purged with expired refresh tokens and empty grants", async (s) => {
    await s.oauth.revokeAccessToken("j1", 500);
    await s.oauth.revokeAccessToken("j1", 500);
    await s.oauth.revokeAccessToken("j2", 900);
    await s.oauth.createGrant(grantRecord("g1", "a"), refresh("h1", "g1", { expiresAt: 600, accessExp: 400 }));
    await s.oauth.createGrant(grantRecord("g2", "a"), refresh("h2", "g2", { expiresAt: 2000 }));
    assert.deepEqual(await s.oauth.purgeOAuth(100), { revokedJtis: 0, refreshTokens: 0, grants: 0, codes: 0 });
    assert.deepEqual(await s.oauth.purgeOAuth(600), { revokedJtis: 1, refreshTokens: 1, grants: 1, codes: 0 });
    assert.equal(await s.oauth.isAccessTokenRevoked("j1"), false);
    assert.equal(await s.oauth.isAccessTokenRevoked("j2"), true);
    assert.notEqual(await s.oauth.findRefreshToken("h2", 600), null);
  });

  test("an authorization code is stored by hash, found with every field, and claimed exactly once", async (s) => {
    await s.oauth.createCode(codeRecord("c1"));
    const found = await s.oauth.findCode("c1");
    assert.deepEqual(found, { ...codeRecord("c1"), usedAt: null });
    assert.equal(await s.oauth.findCode("c2"), null);
    const redemption = { accessJti: "code-at-1", accessExp: 500, grant: grantRecord("cg1", "a") };
    const claims = await Promise.all([
      s.oauth.useCode("c1", 120, redemption),
      s.oauth.useCode("c1", 120, { ...redemption, grant: null }),
    ]);
    assert.deepEqual(claims.sort(), [false, true], "of two racing claims exactly one wins");
    assert.equal((await s.oauth.findCode("c1"))?.usedAt, 120);
  });

  test("an expired code cannot be claimed", async (s) => {
    await s.oauth.createCode(codeRecord("c1", { expiresAt: 160 }));
    assert.equal(await s.oauth.useCode("c1", 160, { accessJti: "j", accessExp: 500, grant: null }), false);
  });

  test("revoking a redeemed code revokes its access token and its refresh family", async (s) => {
    await s.oauth.createCode(codeRecord("c1"));
    await s.oauth.useCode("c1", 120, { accessJti: "code-at", accessExp: 500, grant: grantRecord("cg", "a") });
    await s.oauth.addRefreshToken(refresh("ch1", "cg", { accessJti: "code-at-2", accessExp: 600 }));
    await s.oauth.revokeCode("c1", 130);
    assert.equal(await s.oauth.isAccessTokenRevoked("code-at"), true);
    assert.equal(await s.oauth.isAccessTokenRevoked("code-at-2"), true);
    assert.equal(await s.oauth.findRefreshToken("ch1", 131), null);
    await s.oauth.revokeCode("unknown", 130);
  });

  test("codes are purged once expired and their access token has expired too", async (s) => {
    await s.oauth.createCode(codeRecord("c1"));
    await s.oauth.createCode(codeRecord("c2"));
    await s.oauth.useCode("c2", 120, { accessJti: "j2", accessExp: 900, grant: null });
    assert.equal((await s.oauth.purgeOAuth(150)).codes, 0);
    assert.equal((await s.oauth.purgeOAuth(170)).codes, 1, "the unused expired code goes");
    assert.notEqual(await s.oauth.findCode("c2"), null, "a redeemed code stays while its access token lives");
    assert.equal((await s.oauth.purgeOAuth(900)).codes, 1);
    assert.equal(await s.oauth.findCode("c2"), null);
  });
}

function codeRecord(hash: string, overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord {
  return {
    hash,
    clientId: "a",
    redirectUri: "https://app.example/cb",
    codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    scope: "openid offline_access",
    nonce: "n-0S6_WzA2Mj",
    subject: "alice",
    userId: 7,
    claims: { role: "admin", nested: { a: [1, 2] } },
    authTime: 100,
    createdAt: 100,
    expiresAt: 160,
    ...overrides,
  };
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
