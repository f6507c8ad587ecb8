import assert from "node:assert/strict";
import * as oidc from "openid-client";
import { signClaims } from "../../lib/core/tokens.ts";
import { generateKeyMaterial, importSigningKey } from "../../lib/core/key_material.ts";
import { withServedApp } from "../support/helpers.ts";
import { basic, confidentialClient, formPost, oauthError, PASSWORD_MODE } from "../support/oauth.ts";

Deno.test("introspection through openid-client: active with the claims, else only active: false", async (t) => {
  await withServedApp(PASSWORD_MODE, async (url, app) => {
    const { id, secret, config } = await confidentialClient(url, app, {
      grantTypes: ["client_credentials", "password", "refresh_token"],
      scopes: ["read", "offline_access"],
    });
    const issued = await oidc.genericGrantRequest(config, "password", {
      username: "alice",
      password: "alice-password-1",
      scope: "read offline_access",
    });
    await t.step("an active access token answers with its claims", async () => {
      const result = await oidc.tokenIntrospection(config, issued.access_token);
      assert.equal(result.active, true);
      assert.equal(result.sub, "alice");
      assert.equal(result.client_id, id);
      assert.equal(result.scope, "read offline_access");
      assert.equal(result.iss, url);
      assert.equal(result.token_type, "Bearer");
      assert.equal(typeof result.exp, "number");
    });
    await t.step("an active refresh token answers to its own client", async () => {
      const result = await oidc.tokenIntrospection(config, issued.refresh_token!, { token_type_hint: "refresh_token" });
      assert.equal(result.active, true);
      assert.equal(result.sub, "alice");
      const { config: other } = await confidentialClient(url, app);
      assert.deepEqual(await oidc.tokenIntrospection(other, issued.refresh_token!), { active: false });
      const access = await oidc.tokenIntrospection(other, issued.access_token);
      assert.equal(access.active, true, "a resource server (another client) may introspect access tokens");
    });
    await t.step("expired, foreign, unknown-key and malformed tokens are inactive, saying nothing more", async () => {
      const stranger = await generateKeyMaterial("ES256");
      const jwk = JSON.parse(new TextDecoder().decode(stranger.privateBytes));
      const foreign = await signClaims(await importSigningKey(jwk, "ES256"), { alg: "ES256", kid: stranger.kid }, {
        iss: url,
        sub: "alice",
        exp: Math.floor(app.clock() / 1000) + 60,
      });
      const tokens = [foreign, "not-a-token", "a.b.c", issued.access_token.slice(0, -4) + "AAAA"];
      for (const token of tokens) assert.deepEqual(await oidc.tokenIntrospection(config, token), { active: false });
      app.clock.advance(901_000);
      assert.deepEqual(await oidc.tokenIntrospection(config, issued.access_token), { active: false }, "expired");
    });
    await t.step("/auth tokens are not OAuth access tokens", async () => {
      const auth = await app.fetch("/auth", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "alice", password: "alice-password-1" }),
      });
      const { token } = await auth.json();
      assert.deepEqual(await oidc.tokenIntrospection(config, token), { active: false });
    });
    await t.step("introspection needs a confidential client: public clients and bad secrets are refused", async () => {
      const { client } = await app.clients.register({ name: "pub", public: true }, 0);
      const pub = await oauthError(await formPost(app, "/introspect", { token: "x", client_id: client.id }));
      assert.deepEqual([pub.status, pub.error], [401, "invalid_client"]);
      const bad = await oauthError(await formPost(app, "/introspect", { token: "x" }, basic(id, "wrong")));
      assert.deepEqual([bad.status, bad.error], [401, "invalid_client"]);
      const missing = await oauthError(await formPost(app, "/introspect", {}, basic(id, secret)));
      assert.equal(missing.error, "invalid_request", "a token is required");
    });
  });
});
