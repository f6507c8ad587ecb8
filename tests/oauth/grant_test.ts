import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { OAuthError } from "../../lib/oauth/errors.ts";
import type { Grant } from "../../lib/oauth/grant.ts";
import { GRANTS } from "../../lib/oauth/grants.ts";
import { confidential, grantDeps, grantRequest } from "../support/grants.ts";
import { withApp } from "../support/helpers.ts";

// grant.ts is the shape every grant module has: run(request, deps) decides who and what, then
// issues through issueTokens(). These are the promises of that shape, checked on every grant.

Deno.test("a grant refuses a request missing a parameter it needs with an OAuthError invalid_request, not another error", async (t) => {
  await withApp({ auth: "password" }, async (app) => {
    const deps = grantDeps(app);
    const missing = { password: "grant_type=password", refresh_token: "grant_type=refresh_token" } as const;
    for (const [type, query] of Object.entries(missing) as [keyof typeof missing, string][]) {
      const grant: Grant = GRANTS[type];
      await t.step(type, async () => {
        await assert.rejects(
          grant.run(grantRequest(query, confidential("c")), deps),
          (error: unknown) => error instanceof OAuthError && error.oauthCode === "invalid_request",
        );
      });
    }
  });
});

Deno.test("a grant's tokens are signed by the deps' keys for the deps' issuer, with the request's mock controls", async () => {
  await withApp({}, async (app) => {
    const deps = grantDeps(app, { issuer: "https://issuer.example" });
    const response = await GRANTS.client_credentials.run(
      grantRequest("grant_type=client_credentials", confidential("svc"), {
        mock: { ttl: 42, claims: { tenant: "t1" } },
      }),
      deps,
    );
    const claims = decodeJwt(response.access_token);
    assert.equal(claims.iss, "https://issuer.example");
    assert.equal(claims.tenant, "t1");
    assert.equal(response.expires_in, 42);
    assert.equal(claims.exp, app.keys.now() + 42);
  });
});
