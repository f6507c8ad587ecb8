import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { clientCredentialsGrant } from "../../lib/oauth/grant_client_credentials.ts";
import { assertRefused, confidential, grantDeps, grantRequest, publicClient } from "../support/grants.ts";
import { withApp } from "../support/helpers.ts";

Deno.test("client_credentials gives a confidential client a token for itself, never a refresh token", async (t) => {
  await withApp({}, async (app) => {
    const deps = grantDeps(app);
    const client = confidential("svc");
    await t.step("sub is the client_id; the default scope leaves out openid and offline_access", async () => {
      const response = await clientCredentialsGrant.run(grantRequest("grant_type=client_credentials", client), deps);
      const claims = decodeJwt(response.access_token);
      assert.equal(claims.sub, "svc");
      assert.equal(claims.client_id, "svc");
      assert.equal(response.scope, "read write");
      assert.equal(claims.aud, "https://api.example", "the first registered audience by default");
      assert.equal(response.refresh_token, undefined);
      assert.equal(response.token_type, "Bearer");
    });
    await t.step("asking for offline_access still brings no refresh token, and no offline_access", async () => {
      const response = await clientCredentialsGrant.run(
        grantRequest("grant_type=client_credentials&scope=read%20offline_access", client),
        deps,
      );
      assert.equal(response.scope, "read");
      assert.equal(response.refresh_token, undefined);
    });
    await t.step("asking for openid is invalid_scope: there is no end-user", async () => {
      await assertRefused(
        clientCredentialsGrant,
        { query: "grant_type=client_credentials&scope=openid", client, deps },
        "invalid_scope",
      );
    });
    await t.step("a public client is unauthorized_client", async () => {
      await assertRefused(clientCredentialsGrant, {
        query: "grant_type=client_credentials",
        client: publicClient("spa"),
        deps,
      }, "unauthorized_client");
    });
    await t.step("?expired=true signs a token already expired", async () => {
      const response = await clientCredentialsGrant.run(
        grantRequest("grant_type=client_credentials", client, { expired: true }),
        deps,
      );
      assert.equal(response.expires_in, 0);
      assert.ok(decodeJwt(response.access_token).exp! < app.keys.now());
    });
  });
});
