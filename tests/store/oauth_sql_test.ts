import assert from "node:assert/strict";
import type { GrantRecord, RefreshTokenInsert } from "../../lib/store/oauth_ports.ts";
import { sqlOAuthStore, toClientRecord } from "../../lib/store/oauth_sql.ts";
import type { Program } from "../../lib/store/sql.ts";
import { clientRecord } from "../support/store_contract.ts";
import { withProgramDatabase } from "../support/sql_programs.ts";

const grant = (id: string, overrides: Partial<GrantRecord> = {}): GrantRecord => ({
  id,
  clientId: "web",
  subject: "alice",
  userId: null,
  scope: "read offline_access",
  audience: ["https://api"],
  createdAt: 100,
  revokedAt: null,
  ...overrides,
});
const token = (hash: string, grantId: string, overrides: Partial<RefreshTokenInsert> = {}): RefreshTokenInsert => ({
  hash,
  grantId,
  createdAt: 100,
  expiresAt: 1000,
  accessJti: `jti-${hash}`,
  accessExp: 400,
  ...overrides,
});

Deno.test("toClientRecord() reads rows: JSON lists, bytes, NULLs, frozen", () => {
  const client = toClientRecord({
    id: "c",
    name: "n",
    secret_hash: new Uint8Array([1, 2]),
    grant_types: '["password"]',
    scopes: '"not a list"',
    redirect_uris: "[]",
    audiences: '["a", 7]',
    created_at: "12",
  });
  assert.deepEqual(client.secretHash, new Uint8Array([1, 2]));
  assert.deepEqual([client.grantTypes, client.scopes, client.audiences], [["password"], [], ["a", "7"]]);
  assert.equal(client.createdAt, 12);
  assert.ok(Object.isFrozen(client) && Object.isFrozen(client.scopes));
  assert.equal(
    toClientRecord({
      ...client,
      secret_hash: null,
      grant_types: "[]",
      scopes: "[]",
      redirect_uris: "[]",
      audiences: "[]",
    }).secretHash,
    null,
  );
});

Deno.test("sqlOAuthStore() over a migrated SQLite file: rotation, reuse, revocation and purge", async (t) => {
  await withProgramDatabase(async ({ run, rows }) => {
    const store = sqlOAuthStore(<T>(program: Program<T>) => Promise.resolve(run(program)));
    await t.step("a client round-trips, secret hash and lists included", async () => {
      const client = clientRecord("web");
      await store.createClient(client);
      assert.deepEqual(await store.findClient("web"), client);
      assert.equal(await store.findClient("nobody"), null);
    });
    await t.step("a refresh token is claimed once; presented again it is a reuse that revokes its grant", async () => {
      await store.createGrant(grant("g1"), token("h1", "g1"));
      assert.equal((await store.useRefreshToken("h1", 200)).status, "ok");
      const reused = await store.useRefreshToken("h1", 201);
      assert.equal(reused.status, "reused");
      assert.equal(reused.status === "reused" ? reused.grant.revokedAt : null, 201);
      assert.equal(await store.isAccessTokenRevoked("jti-h1"), true, "the access token issued with it");
      assert.equal(await store.addRefreshToken(token("h2", "g1")), false, "no successor for a revoked grant");
      assert.equal((await store.useRefreshToken("h2", 202)).status, "invalid");
    });
    await t.step("unknown and expired tokens are invalid, and expiry is no reuse", async () => {
      await store.createGrant(grant("g2"), token("h3", "g2", { expiresAt: 300 }));
      assert.equal((await store.useRefreshToken("nope", 200)).status, "invalid");
      assert.equal(await store.findRefreshToken("h3", 299) !== null, true);
      assert.equal((await store.useRefreshToken("h3", 300)).status, "invalid");
      assert.equal(await store.findRefreshToken("h3", 300), null);
      const [row] = rows("SELECT revoked_at FROM jwks_oauth_grants WHERE id = 'g2'");
      assert.equal(row!.revoked_at, null, "an expired token does not revoke the grant");
    });
    await t.step("revoking a grant records only the access tokens that have not expired yet", async () => {
      await store.createGrant(grant("g3"), token("h4", "g3", { accessExp: 150 }));
      await store.addRefreshToken(token("h5", "g3", { accessExp: 500 }));
      await store.revokeGrant("g3", 200);
      assert.equal(await store.isAccessTokenRevoked("jti-h4"), false, "expired at 150, nothing to revoke");
      assert.equal(await store.isAccessTokenRevoked("jti-h5"), true);
      await store.revokeGrant("g3", 300);
      assert.equal(
        rows("SELECT revoked_at FROM jwks_oauth_grants WHERE id = 'g3'")[0]!.revoked_at,
        200,
        "the first time stays",
      );
    });
    await t.step("removing a client revokes its grants", async () => {
      await store.createGrant(grant("g4"), token("h6", "g4"));
      assert.equal(await store.removeClient("web", 250), true);
      assert.equal(await store.removeClient("web", 250), false);
      assert.equal(await store.findRefreshToken("h6", 260), null);
    });
    await t.step("the purge drops expired jtis, expired refresh tokens and grants left without one", async () => {
      await store.revokeAccessToken("old", 10);
      await store.revokeAccessToken("old", 10);
      const purged = await store.purgeOAuth(1000);
      assert.ok(purged.revokedJtis >= 1 && purged.refreshTokens >= 1 && purged.grants >= 1, JSON.stringify(purged));
      assert.equal(await store.isAccessTokenRevoked("old"), false);
      assert.deepEqual(rows("SELECT id FROM jwks_oauth_grants"), []);
      assert.deepEqual(await store.purgeOAuth(1000), { revokedJtis: 0, refreshTokens: 0, grants: 0, codes: 0 });
    });
  });
});
