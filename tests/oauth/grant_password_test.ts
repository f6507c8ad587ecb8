import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import type { OAuthError } from "../../lib/oauth/errors.ts";
import { passwordGrant } from "../../lib/oauth/grant_password.ts";
import type { LoginEvent } from "../../lib/store/ports.ts";
import { assertRefused, confidential, grantDeps, grantRequest, publicClient } from "../support/grants.ts";
import { argon2AtMinimumCost, withApp } from "../support/helpers.ts";

Deno.test("the password grant checks the login as /auth does, and records it", async (t) => {
  await withApp({ auth: "password" }, async (app) => {
    await app.users.upsert("alice", "correct horse battery", app.clock(), "alice@test.com");
    const events: LoginEvent[] = [];
    const deps = grantDeps(app, { loginLog: { record: (event) => events.push(event) } });
    const client = publicClient("app");
    await t.step("the right password gets an access token for the user, and one auth_logs row", async () => {
      const response = await passwordGrant.run(
        grantRequest("grant_type=password&username=alice&password=correct%20horse%20battery", client, {
          ip: "10.0.0.9",
        }),
        deps,
      );
      assert.equal(decodeJwt(response.access_token).sub, "alice");
      assert.equal(response.refresh_token, undefined, "no offline_access, no refresh token");
      assert.equal(events.length, 1);
      assert.equal(events[0]!.ip, "10.0.0.9");
      assert.equal(events[0]!.at, app.clock());
    });
    await t.step("offline_access brings a refresh token", async () => {
      const response = await passwordGrant.run(
        grantRequest(
          "grant_type=password&username=ALICE&password=correct%20horse%20battery&scope=read%20offline_access",
          client,
        ),
        deps,
      );
      assert.equal(typeof response.refresh_token, "string");
      assert.equal(response.scope, "read offline_access");
    });
    await t.step("a wrong password is invalid_grant, with nothing recorded as a login", async () => {
      const before = events.length;
      await assertRefused(
        passwordGrant,
        { query: "grant_type=password&username=alice&password=wrong", client, deps },
        "invalid_grant",
      );
      assert.equal(events.length, before);
    });
    await t.step("password mode needs the password parameter", async () => {
      await assertRefused(
        passwordGrant,
        { query: "grant_type=password&username=alice", client: client, deps: deps },
        "invalid_request",
      );
    });
    await t.step("an unhealthy auth log refuses logins with temporarily_unavailable before checking them", async () => {
      const sick = grantDeps(app, { loginLog: { record: () => {}, healthy: false } });
      await assert.rejects(
        passwordGrant.run(
          grantRequest("grant_type=password&username=alice&password=correct%20horse%20battery", client),
          sick,
        ),
        (error: OAuthError) => error.oauthCode === "temporarily_unavailable" && error.retryAfter === 2,
      );
    });
    await t.step("a scope or audience the client is not registered for is refused", async () => {
      await assertRefused(passwordGrant, {
        query: "grant_type=password&username=alice&password=x&scope=admin",
        client: confidential("c"),
        deps,
      }, "invalid_scope");
      await assertRefused(passwordGrant, {
        query: "grant_type=password&username=alice&password=x&audience=https%3A%2F%2Fnope",
        client: confidential("c"),
        deps,
      }, "invalid_target");
    });
  }, { hasher: argon2AtMinimumCost });
});

Deno.test("in open mode the password grant logs in any username without a password", async () => {
  await withApp({}, async (app) => {
    const response = await passwordGrant.run(
      grantRequest("grant_type=password&username=someone", { id: "mock", method: "none", record: null }),
      grantDeps(app),
    );
    assert.equal(decodeJwt(response.access_token).sub, "someone");
  });
});
