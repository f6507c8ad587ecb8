import assert from "node:assert/strict";
import * as oidc from "openid-client";
import { withServedApp } from "../support/helpers.ts";
import { confidentialClient, PASSWORD_MODE } from "../support/oauth.ts";

Deno.test("userinfo through openid-client: sub, and preferred_username and email by scope", async (t) => {
  await withServedApp(PASSWORD_MODE, async (url, app) => {
    await app.users.register("bob", "bob@example.com", app.clock()).then(async ({ password }) => {
      const { config } = await confidentialClient(url, app, {
        grantTypes: ["password", "client_credentials"],
        scopes: ["openid", "profile", "email"],
      });
      const token = async (scope: string) =>
        (await oidc.genericGrantRequest(config, "password", { username: "bob", password, scope })).access_token;
      await t.step("openid profile email: all three claims", async () => {
        const info = await oidc.fetchUserInfo(config, await token("openid profile email"), "bob");
        assert.deepEqual(info, { sub: "bob", preferred_username: "bob", email: "bob@example.com" });
      });
      await t.step("openid alone: only sub", async () => {
        assert.deepEqual(await oidc.fetchUserInfo(config, await token("openid"), "bob"), { sub: "bob" });
      });
      await t.step("POST with the token in the header works as GET does", async () => {
        const response = await fetch(`${url}/userinfo`, {
          method: "POST",
          headers: { authorization: `Bearer ${await token("openid email")}` },
        });
        assert.deepEqual(await response.json(), { sub: "bob", email: "bob@example.com" });
        assert.equal(response.headers.get("cache-control"), "no-store");
      });
      await t.step("POST with access_token in a form body (RFC 6750 §2.2)", async () => {
        const response = await fetch(`${url}/userinfo`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ access_token: await token("openid") }),
        });
        assert.deepEqual(await response.json(), { sub: "bob" });
      });
      await t.step(
        "RFC 6750 errors: invalid_token for a bad or missing token, insufficient_scope without openid",
        async () => {
          const cases: [Record<string, string>, number, RegExp][] = [
            [{}, 401, /^Bearer realm="jwks-server"$/],
            [{ authorization: "Bearer not-a-token" }, 401, /error="invalid_token"/],
            [{ authorization: `Bearer ${await token("profile")}` }, 403, /error="insufficient_scope"/],
            [{ authorization: "Bearer a b" }, 400, /error="invalid_request"/],
          ];
          for (const [headers, status, challenge] of cases) {
            const response = await fetch(`${url}/userinfo`, { headers });
            assert.equal(response.status, status, JSON.stringify(headers));
            assert.match(response.headers.get("www-authenticate")!, challenge);
            await response.body?.cancel();
          }
          await assert.rejects(
            oidc.fetchUserInfo(config, "not-a-token", "bob"),
            (error: oidc.WWWAuthenticateChallengeError) => error.status === 401,
          );
        },
      );
      await t.step("an expired token is refused", async () => {
        const old = await token("openid");
        app.clock.advance(901_000);
        const response = await fetch(`${url}/userinfo`, { headers: { authorization: `Bearer ${old}` } });
        assert.equal(response.status, 401);
        assert.match(response.headers.get("www-authenticate")!, /invalid_token/);
        await response.body?.cancel();
      });
    });
  });
});
