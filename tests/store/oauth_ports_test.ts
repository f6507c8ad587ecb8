import assert from "node:assert/strict";
import type { GrantRecord, OAuthStore, RefreshTokenInsert } from "../../lib/store/oauth_ports.ts";
import { CONTRACT_HARNESSES } from "../support/store_contract.ts";

// oauth_ports.ts is a contract: these are its documented invariants, checked on every backend
// the contract harness can open (PostgreSQL when DATABASE_URL is set).

const grant = (id: string): GrantRecord => ({
  id,
  clientId: "ad-hoc",
  subject: "alice",
  userId: null,
  scope: "read",
  audience: ["https://api"],
  createdAt: 100,
  revokedAt: null,
});
const token = (hash: string, grantId: string): RefreshTokenInsert => ({
  hash,
  grantId,
  createdAt: 100,
  expiresAt: 1000,
  accessJti: `jti-${hash}`,
  accessExp: 900,
});

async function invariants(t: Deno.TestContext, store: OAuthStore): Promise<void> {
  await t.step("RefreshUse: ok claims a token, which then never works again; a second use is reused", async () => {
    await store.createGrant(grant("g1"), token("a".repeat(64), "g1"));
    const first = await store.useRefreshToken("a".repeat(64), 200);
    assert.equal(first.status, "ok");
    assert.equal(first.status === "ok" ? first.grant.id : null, "g1");
    assert.equal((await store.useRefreshToken("a".repeat(64), 201)).status, "reused");
    assert.equal((await store.useRefreshToken("a".repeat(64), 202)).status, "reused", "still a reuse, never ok");
  });
  await t.step("of two concurrent uses of one token exactly one is ok", async () => {
    await store.createGrant(grant("g2"), token("b".repeat(64), "g2"));
    const uses = await Promise.all([200, 200, 200].map((now) => store.useRefreshToken("b".repeat(64), now)));
    assert.deepEqual(uses.map((use) => use.status).sort(), ["ok", "reused", "reused"]);
  });
  await t.step("addRefreshToken() is false once the grant was revoked, and that token never works", async () => {
    await store.createGrant(grant("g3"), token("c".repeat(64), "g3"));
    await store.revokeGrant("g3", 300);
    assert.equal(await store.addRefreshToken(token("d".repeat(64), "g3")), false);
    assert.equal(await store.findRefreshToken("d".repeat(64), 301), null);
    assert.equal((await store.useRefreshToken("d".repeat(64), 301)).status, "invalid");
  });
  await t.step("revokeAccessToken() is idempotent and lasts until purged past its exp", async () => {
    await store.revokeAccessToken("j", 500);
    await store.revokeAccessToken("j", 500);
    assert.equal(await store.isAccessTokenRevoked("j"), true);
    await store.purgeOAuth(499);
    assert.equal(await store.isAccessTokenRevoked("j"), true);
    await store.purgeOAuth(500);
    assert.equal(await store.isAccessTokenRevoked("j"), false);
  });
}

for (const harness of Object.values(CONTRACT_HARNESSES)) {
  for (const target of await harness()) {
    Deno.test({
      name: `${target.name}: the OAuth port's documented invariants hold`,
      ignore: target.ignore,
      fn: async (t) => {
        const { store, dispose } = await target.factory();
        try {
          await invariants(t, store.oauth);
        } finally {
          await dispose();
        }
      },
    });
  }
}
