import assert from "node:assert/strict";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import * as oidc from "openid-client";
import { body, withApp, withServedApp } from "../support/helpers.ts";
import {
  basic,
  clientConfig,
  confidentialClient,
  formPost,
  oauthError,
  publicClientLogin,
  rejectedWith,
} from "../support/oauth.ts";

const ALICE = "alice:alice-password-1";
const PASSWORD_MODE = { auth: "password", "seed-user": [ALICE], "rate-limit": "off" };

Deno.test("client_credentials through openid-client: an RFC 9068 access token and no refresh token", async (t) => {
  await withServedApp(PASSWORD_MODE, async (url, app) => {
    const { id, config } = await confidentialClient(url, app, {
      scopes: ["read", "write", "offline_access"],
      audiences: ["https://api.example"],
    });
    await t.step("Basic auth, the default scope, and every RFC 9068 claim", async () => {
      const response = await oidc.clientCredentialsGrant(config);
      assert.equal(response.token_type, "bearer");
      assert.equal(response.expires_in, 900);
      assert.equal(response.scope, "read write", "the default scope leaves out offline_access");
      assert.equal(response.refresh_token, undefined, "RFC 6749 §4.4.3: no refresh token");
      assert.equal(decodeProtectedHeader(response.access_token).typ, "at+jwt");
      const { payload } = await jwtVerify(response.access_token, createRemoteJWKSet(new URL(`${url}/jwks`)), {
        issuer: url,
        audience: "https://api.example",
        typ: "at+jwt",
        currentDate: new Date(app.clock()),
      });
      assert.deepEqual(
        Object.keys(payload).sort(),
        ["aud", "client_id", "exp", "iat", "iss", "jti", "scope", "sub"],
      );
      assert.equal(payload.sub, id, "RFC 9068 §3: the client's own tokens have its id as sub");
      assert.equal(payload.client_id, id);
      assert.equal(payload.exp! - payload.iat!, 900);
    });
    await t.step("client_secret_post, a narrower scope and a resource the client may ask for", async () => {
      const { config: post } = await confidentialClient(url, app, {
        scopes: ["read", "write"],
        audiences: ["https://api.example", "https://other.example"],
      }, "post");
      const response = await oidc.clientCredentialsGrant(post, { scope: "read", resource: "https://other.example" });
      assert.equal(response.scope, "read");
      assert.equal(decodeJwt(response.access_token).aud, "https://other.example");
    });
    await t.step("the answer is not cacheable", async () => {
      const response = await formPost(app, "/token", { grant_type: "client_credentials" }, basic(id, "wrong"));
      assert.equal(response.status, 401);
      await response.body?.cancel();
      const { client, secret } = await app.clients.register({ name: "raw" }, 0);
      const ok = await formPost(app, "/token", { grant_type: "client_credentials" }, basic(client.id, secret!));
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("cache-control"), "no-store");
      assert.equal(ok.headers.get("pragma"), "no-cache");
      assert.equal(ok.headers.get("content-type"), "application/json");
      assert.deepEqual(Object.keys(await ok.json()).sort(), ["access_token", "expires_in", "scope", "token_type"]);
    });
  });
});

Deno.test("password and refresh_token through openid-client: rotation, and reuse revokes the family", async (t) => {
  await withServedApp(PASSWORD_MODE, async (url, app) => {
    const { id, config } = await confidentialClient(url, app, {
      grantTypes: ["password", "refresh_token"],
      scopes: ["openid", "profile", "offline_access"],
    });
    const password = (scope: string) =>
      oidc.genericGrantRequest(config, "password", { username: "alice", password: "alice-password-1", scope });

    await t.step("a password grant without offline_access gets no refresh token", async () => {
      const response = await password("openid profile");
      assert.equal(response.refresh_token, undefined);
      assert.equal(decodeJwt(response.access_token).sub, "alice");
    });
    await t.step("each login is written to auth_logs as /auth writes it", async () => {
      const before = app.loginLog.written + app.loginLog.pending;
      await password("openid");
      await app.loginLog.flush();
      assert.equal(app.loginLog.written, before + 1);
    });

    let first: oidc.TokenEndpointResponse;
    let second: oidc.TokenEndpointResponse;
    await t.step("offline_access brings an opaque refresh token, rotated on every use", async () => {
      first = await password("openid offline_access");
      assert.match(first.refresh_token!, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(first.scope, "openid offline_access");
      app.clock.advance(1000);
      second = await oidc.refreshTokenGrant(config, first.refresh_token!);
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.notEqual(second.access_token, first.access_token);
      const claims = decodeJwt(second.access_token);
      assert.equal(claims.sub, "alice");
      assert.equal(claims.client_id, id);
    });
    await t.step("the refresh token is never stored: only its SHA-256", async () => {
      assert.equal(await app.store.oauth.findRefreshToken(second.refresh_token!, app.clock() / 1000), null);
    });
    await t.step("a refresh may narrow the scope, never widen it", async () => {
      const narrow = await oidc.refreshTokenGrant(config, second.refresh_token!, { scope: "openid" });
      assert.equal(narrow.scope, "openid");
      assert.equal(
        await rejectedWith(oidc.refreshTokenGrant(config, narrow.refresh_token!, { scope: "profile" })),
        "invalid_scope",
      );
      second = await oidc.refreshTokenGrant(config, narrow.refresh_token!);
      assert.equal(second.scope, "openid offline_access", "the grant keeps its scope");
    });
    await t.step("presenting a rotated token again revokes every token of the family", async () => {
      assert.equal(await rejectedWith(oidc.refreshTokenGrant(config, first.refresh_token!)), "invalid_grant");
      assert.equal(await rejectedWith(oidc.refreshTokenGrant(config, second.refresh_token!)), "invalid_grant");
      const active = await oidc.tokenIntrospection(config, second.access_token);
      assert.equal(active.active, false, "the access tokens issued in the family are revoked too");
    });
    await t.step("another client presenting the token gets invalid_grant, and the token dies", async () => {
      const fresh = await password("offline_access");
      const { config: thief } = await confidentialClient(url, app, { grantTypes: ["refresh_token"] });
      assert.equal(await rejectedWith(oidc.refreshTokenGrant(thief, fresh.refresh_token!)), "invalid_grant");
      assert.equal(await rejectedWith(oidc.refreshTokenGrant(config, fresh.refresh_token!)), "invalid_grant");
    });
    await t.step("a public client logs in with its client_id alone", async () => {
      const { id, config: pub, issued } = await publicClientLogin(url, app, "app");
      const refreshed = await oidc.refreshTokenGrant(pub, issued.refresh_token!);
      assert.equal(decodeJwt(refreshed.access_token).client_id, id);
    });
  });
});

Deno.test("every RFC 6749 §5.2 error, in the §5.2 shape", async (t) => {
  await withServedApp(PASSWORD_MODE, async (url, app) => {
    const { id, secret, config } = await confidentialClient(url, app, {
      grantTypes: ["client_credentials", "password"],
      scopes: ["read"],
      audiences: ["https://api.example"],
    });
    const auth = basic(id, secret);
    const post = (params: Record<string, string | string[]>, headers: Record<string, string> = auth) =>
      formPost(app, "/token", params, headers);

    await t.step("invalid_request: a missing grant_type, a repeated parameter, two client methods, JSON", async () => {
      for (
        const response of [
          await post({}),
          await post({ grant_type: ["client_credentials", "client_credentials"] }),
          await post({ grant_type: "client_credentials", client_secret: secret }),
          await post({ grant_type: "password", username: "alice" }),
          await app.fetch("/token", {
            method: "POST",
            headers: { "content-type": "application/json", ...auth },
            body: JSON.stringify({ grant_type: "client_credentials" }),
          }),
        ]
      ) {
        const { status, error } = await oauthError(response);
        assert.ok(status === 400 || status === 415, String(status));
        assert.equal(error, "invalid_request");
      }
    });
    await t.step("invalid_client: 401, with a Basic challenge when the client used Basic", async () => {
      const wrong = await oauthError(await post({ grant_type: "client_credentials" }, basic(id, "not the secret")));
      assert.deepEqual([wrong.status, wrong.error], [401, "invalid_client"]);
      const challenged = await post({ grant_type: "client_credentials" }, basic(id, "x"));
      assert.match(challenged.headers.get("www-authenticate")!, /^Basic realm="jwks-server"/);
      await challenged.body?.cancel();
      const byPost = await post({ grant_type: "client_credentials", client_id: id, client_secret: "x" }, {});
      assert.equal(byPost.headers.get("www-authenticate"), null);
      assert.deepEqual([(await oauthError(byPost)).status], [401]);
      for (
        const params of [{ grant_type: "client_credentials" }, {
          grant_type: "client_credentials",
          client_id: "nobody",
        }]
      ) {
        assert.equal(
          (await oauthError(await post(params, {}))).error,
          "invalid_client",
          "password mode needs a client",
        );
      }
      const lib = await clientConfig(url, id, oidc.ClientSecretBasic("wrong"));
      await assert.rejects(
        oidc.clientCredentialsGrant(lib),
        (error: oidc.WWWAuthenticateChallengeError) => error.status === 401,
      );
    });
    await t.step("invalid_grant: a wrong password, an unknown refresh token", async () => {
      assert.equal(
        await rejectedWith(oidc.genericGrantRequest(config, "password", { username: "alice", password: "nope" })),
        "invalid_grant",
      );
      assert.equal(
        await rejectedWith(oidc.genericGrantRequest(config, "password", { username: "nobody", password: "nope" })),
        "invalid_grant",
      );
      const { error } = await oauthError(await post({ grant_type: "refresh_token", refresh_token: "made-up" }));
      assert.equal(error, "unauthorized_client", "this client may not refresh at all");
      const { config: refresher } = await confidentialClient(url, app, { grantTypes: ["refresh_token"] });
      assert.equal(await rejectedWith(oidc.refreshTokenGrant(refresher, "made-up")), "invalid_grant");
    });
    await t.step(
      "unauthorized_client: a grant the client is not registered for; a public client's client_credentials",
      async () => {
        const { config: ccOnly } = await confidentialClient(url, app);
        assert.equal(
          await rejectedWith(oidc.genericGrantRequest(ccOnly, "password", { username: "alice", password: "x" })),
          "unauthorized_client",
        );
        const { client } = await app.clients.register({ name: "pub", public: true }, 0);
        const { error } = await oauthError(await post({ grant_type: "client_credentials", client_id: client.id }, {}));
        assert.equal(error, "unauthorized_client");
      },
    );
    await t.step("unsupported_grant_type: a grant this server does not implement", async () => {
      for (const type of ["urn:ietf:params:oauth:grant-type:device_code", "implicit", "jwt-bearer"]) {
        assert.equal(await rejectedWith(oidc.genericGrantRequest(config, type, {})), "unsupported_grant_type", type);
      }
    });
    await t.step("invalid_scope: a scope the client is not registered for, or malformed", async () => {
      assert.equal(await rejectedWith(oidc.clientCredentialsGrant(config, { scope: "admin" })), "invalid_scope");
      assert.equal(
        (await oauthError(await post({ grant_type: "client_credentials", scope: 'a"b' }))).error,
        "invalid_scope",
      );
    });
    await t.step("invalid_target (RFC 8707): an audience the client may not ask for", async () => {
      assert.equal(
        await rejectedWith(oidc.clientCredentialsGrant(config, { resource: "https://evil.example" })),
        "invalid_target",
      );
    });
    await t.step("our own failures are §5.2 too: a wrong method, a body too large", async () => {
      const get = await app.fetch("/token");
      assert.equal(get.headers.get("allow"), "POST, OPTIONS");
      assert.deepEqual([(await oauthError(get)).status], [405]);
      const big = await post({ grant_type: "client_credentials", pad: "x".repeat(20_000) });
      assert.deepEqual([(await oauthError(big)).status], [413]);
    });
  });
});

Deno.test("the password grant has /auth's rate limit and backoff per username and IP", async (t) => {
  await withApp({ auth: "password", "seed-user": [ALICE], "login-backoff": "2,1s,15m" }, async (app) => {
    const { client, secret } = await app.clients.register({ name: "c", grantTypes: ["password"] }, 0);
    const login = (password: string, ip = "10.0.0.1") =>
      app.fetch("/token", {
        method: "POST",
        ip,
        headers: { "content-type": "application/x-www-form-urlencoded", ...basic(client.id, secret!) },
        body: new URLSearchParams({ grant_type: "password", username: "alice", password }).toString(),
      });
    await t.step("after the free failures, the username backs off: 429 invalid_grant with Retry-After", async () => {
      for (let i = 0; i < 3; i++) assert.equal((await oauthError(await login("wrong"))).error, "invalid_grant");
      const locked = await login("alice-password-1");
      assert.equal(locked.headers.get("retry-after"), "1");
      assert.deepEqual([(await oauthError(locked)).status, (await body(await login("x"))).error], [
        429,
        "invalid_grant",
      ]);
      app.clock.advance(60_000);
      assert.equal((await login("alice-password-1")).status, 200);
    });
    await t.step("failures from one IP never keep alice's right password out from another", async () => {
      for (let i = 0; i < 4; i++) await login("wrong", "203.0.113.9");
      assert.equal((await login("alice-password-1", "203.0.113.9")).status, 429, "the failing IP backs off");
      assert.equal((await login("alice-password-1", "198.51.100.4")).status, 200, "alice's own IP does not");
      app.clock.advance(60_000);
    });
    await t.step("the 11th request in a second from one IP is 429 before the body is read", async () => {
      app.clock.advance(5000);
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const response = await login("alice-password-1", "10.9.9.9");
        statuses.push(response.status);
        if (i === 10) {
          assert.equal((await oauthError(response)).error, "invalid_request");
          assert.ok(response.headers.get("retry-after"));
          assert.equal(response.headers.get("ratelimit-remaining"), "0");
        } else await response.body?.cancel();
      }
      assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
    });
  });
});

Deno.test("open mode at /token: any client_id without a secret, and the mock controls", async (t) => {
  await withServedApp({ "rate-limit": "off", "max-token-ttl": "2h" }, async (url, app) => {
    const now = Math.floor(app.clock() / 1000);
    await t.step("an unregistered client_id needs no secret and may ask for any scope and audience", async () => {
      const config = await clientConfig(url, "my-test-client");
      const response = await oidc.clientCredentialsGrant(config, {
        scope: "anything:read",
        audience: "https://api.example",
      });
      const claims = decodeJwt(response.access_token);
      assert.deepEqual([claims.sub, claims.client_id, claims.scope, claims.aud], [
        "my-test-client",
        "my-test-client",
        "anything:read",
        "https://api.example",
      ]);
    });
    await t.step("no client at all is the anonymous client; any username logs in", async () => {
      const response = await formPost(app, "/token", {
        grant_type: "password",
        username: "zoe",
        scope: "offline_access",
      });
      const answer = await response.json();
      assert.equal(decodeJwt(answer.access_token).client_id, "anonymous");
      assert.equal(decodeJwt(answer.access_token).sub, "zoe");
      assert.equal(typeof answer.refresh_token, "string");
    });
    await t.step("ttl, nbf, iss, aud and claims shape the access token", async () => {
      const response = await formPost(app, "/token", {
        grant_type: "client_credentials",
        client_id: "mock",
        ttl: "7200",
        nbf: String(now + 30),
        iss: "https://issuer.mock",
        aud: ["a1", "a2"],
        claims: JSON.stringify({ tenant: "t1" }),
      });
      const answer = await response.json();
      assert.equal(answer.expires_in, 7200);
      const claims = decodeJwt(answer.access_token);
      assert.deepEqual([claims.nbf, claims.iss, claims.aud, claims.tenant], [now + 30, "https://issuer.mock", [
        "a1",
        "a2",
      ], "t1"]);
      assert.equal(decodeProtectedHeader(answer.access_token).typ, "at+jwt");
      const refused = await formPost(app, "/token", { grant_type: "client_credentials", ttl: "7201" });
      assert.equal((await oauthError(refused)).error, "invalid_request");
      const reserved = await formPost(app, "/token", {
        grant_type: "client_credentials",
        claims: JSON.stringify({ client_id: "someone-else" }),
      });
      assert.equal((await oauthError(reserved)).error, "invalid_request");
    });
    await t.step("?expired=true: an access token already expired for any verifier, and no refresh token", async () => {
      const response = await formPost(
        app,
        "/token",
        {
          grant_type: "password",
          username: "zoe",
          scope: "offline_access",
        },
        {},
        "?expired=true",
      );
      const answer = await response.json();
      assert.equal(answer.expires_in, 0);
      assert.equal(answer.refresh_token, undefined);
      assert.ok(decodeJwt(answer.access_token).exp! <= now - app.config.policy.clockSkew - 60);
    });
    await t.step("a registered client must still authenticate, and keeps its registered limits", async () => {
      const { client, secret } = await app.clients.register({ name: "real", scopes: ["read"] }, 0);
      const noSecret = await formPost(app, "/token", { grant_type: "client_credentials", client_id: client.id });
      assert.equal((await oauthError(noSecret)).error, "invalid_client");
      const wide = await formPost(
        app,
        "/token",
        { grant_type: "client_credentials", scope: "admin" },
        basic(client.id, secret!),
      );
      assert.equal((await oauthError(wide)).error, "invalid_scope");
    });
  });
});

Deno.test("password mode honours none of the mock controls at /token", async () => {
  await withServedApp(PASSWORD_MODE, async (_url, app) => {
    const { client, secret } = await app.clients.register({ name: "c" }, 0);
    const response = await formPost(app, "/token", {
      grant_type: "client_credentials",
      ttl: "60",
      nbf: "1",
      iss: "https://forged.example",
      aud: "anything",
      claims: JSON.stringify({ admin: true }),
    }, basic(client.id, secret!));
    const answer = await response.json();
    assert.equal(answer.expires_in, 900);
    const claims = decodeJwt(answer.access_token);
    assert.equal(claims.iss, app.config.issuer);
    assert.equal(claims.aud, app.config.issuer, "aud stays the default; an `aud` parameter is a mock control");
    for (const name of ["nbf", "admin"]) assert.equal(name in claims, false, name);
  });
});
