import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { decodeJwt } from "jose";
import type { OAuthError } from "../../lib/oauth/errors.ts";
import { issueTokens, randomToken, refreshTokenHash } from "../../lib/oauth/issue.ts";
import { confidential, grantDeps } from "../support/grants.ts";
import { withApp } from "../support/helpers.ts";

const client = confidential("web");
const base = {
  client,
  subject: "alice",
  userId: null,
  scope: ["read"],
  audience: ["https://api"],
  mock: null,
  expired: false,
};

Deno.test("randomToken() is 256 random bits in base64url; the store sees only its SHA-256", () => {
  const tokens = new Set(Array.from({ length: 100 }, randomToken));
  assert.equal(tokens.size, 100);
  for (const token of tokens) {
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Uint8Array.fromBase64(token, { alphabet: "base64url" }).length, 32);
  }
  assert.equal(refreshTokenHash("abc"), createHash("sha256").update("abc").digest("hex"));
});

Deno.test("issueTokens() answers the RFC 6749 §5.1 body and stores refresh tokens by hash only", async (t) => {
  await withApp({}, async (app) => {
    const deps = grantDeps(app);
    await t.step("without a refresh: Bearer, expires_in the token lifetime, the scope, no refresh_token", async () => {
      const body = await issueTokens(deps, { ...base, refresh: null });
      assert.equal(body.token_type, "Bearer");
      assert.equal(body.expires_in, deps.tokenTtl);
      assert.equal(body.scope, "read");
      assert.equal(body.refresh_token, undefined);
      assert.equal(decodeJwt(body.access_token).exp, app.keys.now() + deps.tokenTtl);
    });
    await t.step(
      "a new grant: the refresh token is found by its hash, with the grant's scope and subject",
      async () => {
        const body = await issueTokens(deps, { ...base, refresh: { scope: ["read", "offline_access"] } });
        const found = await deps.store.findRefreshToken(refreshTokenHash(body.refresh_token!), app.keys.now());
        assert.equal(found?.grant.subject, "alice");
        assert.equal(found?.grant.scope, "read offline_access");
        assert.equal(found?.expiresAt, app.keys.now() + deps.refreshTtl);
        assert.equal(
          await deps.store.findRefreshToken(body.refresh_token!, app.keys.now()),
          null,
          "never the token itself",
        );
      },
    );
    await t.step("revoking the grant revokes the access token issued beside its refresh token", async () => {
      const body = await issueTokens(deps, { ...base, refresh: { scope: ["read"] } });
      const found = await deps.store.findRefreshToken(refreshTokenHash(body.refresh_token!), app.keys.now());
      await deps.store.revokeGrant(found!.grant.id, app.keys.now());
      assert.equal(await deps.store.isAccessTokenRevoked(String(decodeJwt(body.access_token).jti)), true);
    });
    await t.step(
      "a successor for a grant revoked meanwhile is invalid_grant, and its access token is revoked",
      async () => {
        const first = await issueTokens(deps, { ...base, refresh: { scope: ["read"] } });
        const used = await deps.store.useRefreshToken(refreshTokenHash(first.refresh_token!), app.keys.now());
        assert.equal(used.status, "ok");
        const grant = used.status === "ok" ? used.grant : null;
        await deps.store.revokeGrant(grant!.id, app.keys.now());
        let jti = "";
        const store = {
          ...deps.store,
          revokeAccessToken: (id: string, exp: number) => ((jti = id), deps.store.revokeAccessToken(id, exp)),
        };
        await assert.rejects(
          issueTokens({ ...deps, store }, { ...base, refresh: { grant: grant! } }),
          (error: OAuthError) => error.oauthCode === "invalid_grant",
        );
        assert.notEqual(jti, "");
        assert.equal(await deps.store.isAccessTokenRevoked(jti), true);
      },
    );
    await t.step("an already-expired access token never comes with a refresh token", async () => {
      const body = await issueTokens(deps, { ...base, expired: true, refresh: { scope: ["read"] } });
      assert.equal(body.refresh_token, undefined);
      assert.equal(body.expires_in, 0);
      assert.ok(decodeJwt(body.access_token).exp! <= app.keys.now() - deps.expiredBy);
    });
  });
});
