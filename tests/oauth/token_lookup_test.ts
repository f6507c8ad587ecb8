import assert from "node:assert/strict";
import { issueAccessToken } from "../../lib/oauth/access_tokens.ts";
import { issueTokens } from "../../lib/oauth/issue.ts";
import { findToken, MAX_TOKEN_LENGTH } from "../../lib/oauth/token_lookup.ts";
import { confidential, grantDeps } from "../support/grants.ts";
import { withApp } from "../support/helpers.ts";

Deno.test("findToken() tells our active access and refresh tokens apart without a hint", async (t) => {
  await withApp({}, async (app) => {
    const deps = grantDeps(app);
    const lookup = { keys: app.keys, store: app.store.oauth, issuer: deps.issuer };
    const body = await issueTokens(deps, {
      client: confidential("web"),
      subject: "alice",
      userId: null,
      scope: ["read"],
      audience: ["https://api"],
      refresh: { scope: ["read", "offline_access"] },
      mock: null,
      expired: false,
    });
    await t.step("an access token is found by its signature, with its claims", async () => {
      const found = await findToken(body.access_token, lookup);
      assert.equal(found?.kind, "access_token");
      assert.equal(found?.kind === "access_token" ? found.claims.sub : null, "alice");
    });
    await t.step("a refresh token is found by its hash, with its grant", async () => {
      const found = await findToken(body.refresh_token!, lookup);
      assert.equal(found?.kind, "refresh_token");
      assert.equal(found?.kind === "refresh_token" ? found.refresh.grant.clientId : null, "web");
    });
    await t.step("unknown, foreign-issuer and over-long tokens are nothing we know", async () => {
      assert.equal(await findToken("unknown-opaque-token", lookup), null);
      const foreign = await issueAccessToken(
        { clientId: "web", subject: "alice", scope: [], audience: ["a"] },
        { view: app.keys.view(), issuer: "https://elsewhere", ttl: 60, now: app.keys.now() },
      );
      assert.equal(await findToken(foreign.token, lookup), null);
      assert.equal(await findToken(body.refresh_token!.padEnd(MAX_TOKEN_LENGTH + 1, "A"), lookup), null);
    });
    await t.step("a used or revoked token is no longer found", async () => {
      await app.store.oauth.revokeGrant(
        (await findToken(body.refresh_token!, lookup) as { refresh: { grant: { id: string } } }).refresh.grant.id,
        app.keys.now(),
      );
      assert.equal(await findToken(body.refresh_token!, lookup), null);
      assert.equal(await findToken(body.access_token, lookup), null);
    });
  });
});
