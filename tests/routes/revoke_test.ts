import assert from "node:assert/strict";
import * as oidc from "openid-client";
import { testApp, withServedApp } from "../support/helpers.ts";
import {
  basic,
  confidentialClient,
  formPost,
  oauthError,
  PASSWORD_MODE,
  publicClientLogin,
  rejectedWith,
} from "../support/oauth.ts";

Deno.test("revocation through openid-client: access tokens by jti, refresh tokens with their grant", async (t) => {
  await withServedApp(PASSWORD_MODE, async (url, app) => {
    const { id, secret, config } = await confidentialClient(url, app, {
      grantTypes: ["client_credentials", "password", "refresh_token"],
      scopes: ["openid", "offline_access"],
    });
    const login = () =>
      oidc.genericGrantRequest(config, "password", {
        username: "alice",
        password: "alice-password-1",
        scope: "openid offline_access",
      });
    await t.step("a revoked access token is inactive and refused by userinfo at once", async () => {
      const issued = await login();
      await oidc.tokenRevocation(config, issued.access_token, { token_type_hint: "access_token" });
      assert.equal((await oidc.tokenIntrospection(config, issued.access_token)).active, false);
      await assert.rejects(oidc.fetchUserInfo(config, issued.access_token, "alice"));
      const refreshed = await oidc.refreshTokenGrant(config, issued.refresh_token!);
      assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, true, "the grant stands");
    });
    await t.step("a revoked refresh token revokes its grant: no refresh, and its access tokens die", async () => {
      const issued = await login();
      await oidc.tokenRevocation(config, issued.refresh_token!);
      assert.equal(await rejectedWith(oidc.refreshTokenGrant(config, issued.refresh_token!)), "invalid_grant");
      assert.equal((await oidc.tokenIntrospection(config, issued.access_token)).active, false);
    });
    await t.step("unknown, malformed and already-revoked tokens are 200, as RFC 7009 §2.2 says", async () => {
      const issued = await login();
      for (const token of ["unknown", "a.b.c", issued.access_token, issued.access_token]) {
        await oidc.tokenRevocation(config, token);
      }
    });
    await t.step("a token of another client is refused with unauthorized_client", async () => {
      const issued = await login();
      const { config: other } = await confidentialClient(url, app);
      assert.equal(await rejectedWith(oidc.tokenRevocation(other, issued.access_token)), "unauthorized_client");
      assert.equal((await oidc.tokenIntrospection(config, issued.access_token)).active, true);
    });
    await t.step("a public client revokes its own refresh token with its client_id alone", async () => {
      const { config: pub, issued } = await publicClientLogin(url, app, "pub");
      await oidc.tokenRevocation(pub, issued.refresh_token!);
      assert.equal(await rejectedWith(oidc.refreshTokenGrant(pub, issued.refresh_token!)), "invalid_grant");
    });
    await t.step("revocation needs client authentication and a token", async () => {
      const noClient = await oauthError(await formPost(app, "/revoke", { token: "x" }));
      assert.deepEqual([noClient.status, noClient.error], [401, "invalid_client"]);
      const noToken = await oauthError(await formPost(app, "/revoke", {}, basic(id, secret)));
      assert.deepEqual([noToken.status, noToken.error], [400, "invalid_request"]);
    });
  });
});

Deno.test("a revocation made through one instance is seen by another sharing the database at once", async () => {
  const dir = await Deno.makeTempDir();
  const flags = { ...PASSWORD_MODE, db: `${dir}/shared.db` };
  const one = await testApp(flags);
  const two = await testApp(flags);
  try {
    const { client, secret } = await one.clients.register({ name: "c", grantTypes: ["client_credentials"] }, 0);
    const auth = basic(client.id, secret!);
    const issued = await (await formPost(one, "/token", { grant_type: "client_credentials" }, auth)).json();
    const active = async (app: typeof one) =>
      (await (await formPost(app, "/introspect", { token: issued.access_token }, auth)).json()).active;
    assert.equal(await active(two), true);
    assert.equal((await formPost(one, "/revoke", { token: issued.access_token }, auth)).status, 200);
    assert.equal(await active(two), false);
    assert.equal(await active(one), false);
  } finally {
    await one.close();
    await two.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("revoked jtis are kept until the token's exp, then purged by the maintenance tick", async () => {
  const app = await testApp(PASSWORD_MODE);
  try {
    const { client, secret } = await app.clients.register({ name: "c" }, 0);
    const auth = basic(client.id, secret!);
    const issued = await (await formPost(app, "/token", { grant_type: "client_credentials" }, auth)).json();
    await formPost(app, "/revoke", { token: issued.access_token }, auth);
    const jti = JSON.parse(atob(issued.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).jti;
    await app.refresh();
    assert.equal(await app.store.oauth.isAccessTokenRevoked(jti), true, "kept while the token could still verify");
    app.clock.advance((issued.expires_in + 1) * 1000);
    await app.refresh();
    assert.equal(await app.store.oauth.isAccessTokenRevoked(jti), false, "gone once it expired");
  } finally {
    await app.close();
  }
});
