import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import type { OAuthError } from "../../lib/oauth/errors.ts";
import { passwordGrant } from "../../lib/oauth/grant_password.ts";
import { refreshTokenGrant } from "../../lib/oauth/grant_refresh_token.ts";
import { refreshTokenHash } from "../../lib/oauth/issue.ts";
import { confidential, grantDeps, grantRequest } from "../support/grants.ts";
import { withApp } from "../support/helpers.ts";

const client = confidential("web");
const refresh = (token: string, extra = "") =>
  grantRequest(`grant_type=refresh_token&refresh_token=${token}${extra}`, client);
const refused = (code: string) => (error: OAuthError) => error.oauthCode === code;

/** A first refresh token for `alice`, from the password grant with offline_access. */
async function firstToken(deps: ReturnType<typeof grantDeps>): Promise<string> {
  const login = grantRequest("grant_type=password&username=alice&scope=read%20write%20offline_access", client);
  const response = await passwordGrant.run(login, deps);
  assert.equal(typeof response.refresh_token, "string");
  return response.refresh_token!;
}

Deno.test("refresh_token rotates the token on every use, and reuse revokes the whole family", async (t) => {
  await withApp({}, async (app) => {
    const deps = grantDeps(app);
    await t.step("a refresh answers a new access token of the same subject and a different refresh token", async () => {
      const first = await firstToken(deps);
      const next = await refreshTokenGrant.run(refresh(first), deps);
      assert.notEqual(next.refresh_token, undefined);
      assert.notEqual(next.refresh_token, first);
      const claims = decodeJwt(next.access_token);
      assert.equal(claims.sub, "alice");
      assert.equal(claims.client_id, "web");
      assert.equal(next.scope, "read write offline_access", "the grant keeps its scope");
    });
    await t.step("presenting a claimed token again is reuse: invalid_grant, and its successor dies too", async () => {
      const first = await firstToken(deps);
      const second = await refreshTokenGrant.run(refresh(first), deps);
      await assert.rejects(
        refreshTokenGrant.run(refresh(first), deps),
        (error: OAuthError) => error.oauthCode === "invalid_grant" && /already used/.test(error.message),
      );
      await assert.rejects(refreshTokenGrant.run(refresh(second.refresh_token!), deps), refused("invalid_grant"));
      const jti = String(decodeJwt(second.access_token).jti);
      assert.equal(await deps.store.isAccessTokenRevoked(jti), true, "the access token issued beside it is revoked");
    });
    await t.step("another client presenting the token revokes the grant for its owner too", async () => {
      const first = await firstToken(deps);
      const thief = grantRequest(`grant_type=refresh_token&refresh_token=${first}`, confidential("thief"));
      await assert.rejects(
        refreshTokenGrant.run(thief, deps),
        (error: OAuthError) => error.oauthCode === "invalid_grant" && /another client/.test(error.message),
      );
      await assert.rejects(refreshTokenGrant.run(refresh(first), deps), refused("invalid_grant"));
    });
    await t.step("a narrowing is allowed; a widening is refused before the token is claimed", async () => {
      const first = await firstToken(deps);
      await assert.rejects(refreshTokenGrant.run(refresh(first, "&scope=admin"), deps), refused("invalid_scope"));
      await assert.rejects(
        refreshTokenGrant.run(refresh(first, "&resource=https%3A%2F%2Fother.example"), deps),
        refused("invalid_target"),
      );
      const narrowed = await refreshTokenGrant.run(refresh(first, "&scope=read"), deps);
      assert.equal(narrowed.scope, "read", "the refused requests did not use the token up");
      const again = await refreshTokenGrant.run(refresh(narrowed.refresh_token!), deps);
      assert.equal(again.scope, "read write offline_access", "the grant's scope is unchanged by a narrowing");
    });
    await t.step("an unknown, missing or expired token is invalid, and ?expired=true does not apply", async () => {
      await assert.rejects(refreshTokenGrant.run(refresh("not-a-token-we-issued"), deps), refused("invalid_grant"));
      await assert.rejects(
        refreshTokenGrant.run(grantRequest("grant_type=refresh_token", client), deps),
        refused("invalid_request"),
      );
      const first = await firstToken(deps);
      await assert.rejects(
        refreshTokenGrant.run({ ...refresh(first), expired: true }, deps),
        refused("invalid_request"),
      );
      assert.notEqual(await deps.store.findRefreshToken(refreshTokenHash(first), app.keys.now()), null);
      app.clock.advance((app.config.refreshTokenTtl + 1) * 1000);
      await assert.rejects(refreshTokenGrant.run(refresh(first), deps), refused("invalid_grant"));
    });
  });
});
