import assert from "node:assert/strict";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { CODE_TTL } from "../../lib/oauth/codes.ts";
import { atHash } from "../../lib/oauth/id_tokens.ts";
import { body, publishedKeys, type TestApp, withApp } from "../support/helpers.ts";
import { basic, formPost, oauthError } from "../support/oauth.ts";
import { pkce, signIn } from "../support/signin.ts";

const ALICE = "alice:alice-password-1";
const PASSWORD_MODE = { auth: "password", "seed-user": [ALICE], "rate-limit": "off" };
const CB = "https://app.example/cb";
const ALICE_LOGIN = { username: "alice", password: "alice-password-1" };

interface Clients {
  /** Public, may refresh. */
  app: string;
  /** Public, may not refresh. */
  noRefresh: string;
  /** Confidential, for introspection and PKCE-less codes. */
  server: { id: string; secret: string };
}

async function clients(app: TestApp): Promise<Clients> {
  const register = async (input: Record<string, unknown>) => await app.clients.register({ name: "c", ...input }, 0);
  const common = { scopes: ["openid", "profile", "offline_access"], redirectUris: [CB, `${CB}2`] };
  const pub = await register({ public: true, grantTypes: ["authorization_code", "refresh_token"], ...common });
  const noRefresh = await register({ public: true, grantTypes: ["authorization_code"], ...common });
  const server = await register({ grantTypes: ["authorization_code", "client_credentials"], ...common });
  return {
    app: pub.client.id,
    noRefresh: noRefresh.client.id,
    server: { id: server.client.id, secret: server.secret! },
  };
}

function codeFor(app: TestApp, clientId: string, extra: Record<string, string | undefined> = {}) {
  return signIn(app.fetch, {
    client_id: clientId,
    redirect_uri: CB,
    scope: "openid offline_access",
    nonce: "nonce-1",
    state: "s",
    code_challenge: pkce().challenge,
    code_challenge_method: "S256",
    ...extra,
  }, ALICE_LOGIN);
}

function redeem(app: TestApp, fields: Record<string, string>, headers: Record<string, string> = {}, query = "") {
  return formPost(app, "/token", { grant_type: "authorization_code", redirect_uri: CB, ...fields }, headers, query);
}

async function introspect(app: TestApp, server: Clients["server"], token: string): Promise<boolean> {
  const response = await formPost(app, "/introspect", { token }, basic(server.id, server.secret));
  return (await body<{ active: boolean }>(response)).active;
}

Deno.test("a code redeemed with its PKCE verifier: access token, ID token and refresh token", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const ids = await clients(app);
    const signedInAt = app.keys.now();
    const code = await codeFor(app, ids.app);
    app.clock.advance(5000);
    const response = await redeem(app, { client_id: ids.app, code, code_verifier: pkce().verifier });
    const tokens = await body<Record<string, string>>(response);
    assert.equal(response.status, 200, JSON.stringify(tokens));
    const keys = createLocalJWKSet(await publishedKeys(app));
    await t.step("the token response of RFC 6749 §5.1, not cacheable", () => {
      assert.equal(response.headers.get("cache-control"), "no-store");
      const fields = "access_token expires_in id_token refresh_token scope token_type";
      assert.deepEqual(Object.keys(tokens).sort(), fields.split(" "));
      assert.equal(tokens.token_type, "Bearer");
      assert.equal(tokens.scope, "openid offline_access");
    });
    await t.step("the access token is RFC 9068's, for alice and this client", async () => {
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token!, keys, {
        issuer: app.config.issuer,
        typ: "at+jwt",
        currentDate: new Date(app.clock()),
      });
      assert.equal(protectedHeader.typ, "at+jwt");
      assert.equal(payload.sub, "alice");
      assert.equal(payload.client_id, ids.app);
    });
    await t.step("the ID token: iss, sub, aud = client_id, exp, iat, auth_time, nonce, at_hash", async () => {
      const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, keys, {
        issuer: app.config.issuer,
        audience: ids.app,
        typ: "JWT",
        currentDate: new Date(app.clock()),
      });
      assert.equal(protectedHeader.typ, "JWT");
      assert.equal(protectedHeader.kid, decodeProtectedHeader(tokens.access_token!).kid, "the active key signs both");
      assert.equal(payload.sub, "alice");
      assert.equal(payload.aud, ids.app);
      assert.equal(payload.auth_time, signedInAt, "when the user signed in, not when the code was redeemed");
      assert.equal(payload.iat, signedInAt + 5);
      assert.equal(payload.exp, signedInAt + 5 + app.config.policy.tokenTtl);
      assert.equal(payload.nonce, "nonce-1");
      assert.equal(payload.at_hash, atHash(tokens.access_token!, String(protectedHeader.alg)));
      const digest = new Uint8Array(
        await crypto.subtle.digest("SHA-256", new TextEncoder().encode(tokens.access_token!)),
      );
      assert.equal(payload.at_hash, digest.subarray(0, 16).toBase64({ alphabet: "base64url", omitPadding: true }));
    });
    await t.step("the refresh token works at /token", async () => {
      const refreshed = await formPost(app, "/token", {
        grant_type: "refresh_token",
        client_id: ids.app,
        refresh_token: tokens.refresh_token!,
      });
      assert.equal(refreshed.status, 200);
      await refreshed.body?.cancel();
    });
  });
});

Deno.test("what the code grant returns depends on the scope and the client", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const ids = await clients(app);
    const verifier = pkce().verifier;
    await t.step("without openid there is no ID token", async () => {
      const code = await codeFor(app, ids.app, { scope: "profile" });
      const tokens = await body(await redeem(app, { client_id: ids.app, code, code_verifier: verifier }));
      assert.equal(tokens.id_token, undefined);
      assert.equal(tokens.refresh_token, undefined);
    });
    await t.step("a client that may not refresh gets no refresh token, and no offline_access", async () => {
      const code = await codeFor(app, ids.noRefresh);
      const tokens = await body(await redeem(app, { client_id: ids.noRefresh, code, code_verifier: verifier }));
      assert.equal(tokens.refresh_token, undefined);
      assert.equal(tokens.scope, "openid");
      assert.equal(typeof tokens.id_token, "string");
    });
    await t.step("without a nonce the ID token has none", async () => {
      const code = await codeFor(app, ids.app, { nonce: undefined });
      const tokens = await body<{ id_token: string }>(
        await redeem(app, { client_id: ids.app, code, code_verifier: verifier }),
      );
      assert.equal("nonce" in decodeJwt(tokens.id_token), false);
    });
    await t.step("a confidential client authenticates and may go without PKCE", async () => {
      const code = await codeFor(app, ids.server.id, { code_challenge: undefined, code_challenge_method: undefined });
      const response = await redeem(app, { code }, basic(ids.server.id, ids.server.secret));
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });
    await t.step("a confidential client with a wrong secret is invalid_client", async () => {
      const code = await codeFor(app, ids.server.id);
      const response = await redeem(app, { code, code_verifier: verifier }, basic(ids.server.id, "wrong"));
      assert.equal((await oauthError(response)).error, "invalid_client");
    });
  });
});

Deno.test("a code is refused unless every binding holds, and a refused attempt does not burn it", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const ids = await clients(app);
    const { verifier } = pkce();
    const code = await codeFor(app, ids.app);
    const cases: [string, Record<string, string>, Record<string, string>, string][] = [
      ["a wrong verifier", { client_id: ids.app, code, code_verifier: pkce("b").verifier }, {}, "invalid_grant"],
      ["no verifier", { client_id: ids.app, code }, {}, "invalid_grant"],
      ["a malformed verifier", { client_id: ids.app, code, code_verifier: "short" }, {}, "invalid_grant"],
      [
        "another redirect_uri",
        { client_id: ids.app, code, code_verifier: verifier, redirect_uri: `${CB}2` },
        {},
        "invalid_grant",
      ],
      [
        "no redirect_uri",
        { client_id: ids.app, code, code_verifier: verifier, redirect_uri: "" },
        {},
        "invalid_request",
      ],
      ["another client", { client_id: ids.noRefresh, code, code_verifier: verifier }, {}, "invalid_grant"],
      [
        "another, confidential, client",
        { code, code_verifier: verifier },
        basic(ids.server.id, ids.server.secret),
        "invalid_grant",
      ],
      ["an unknown code", { client_id: ids.app, code: "x".repeat(43), code_verifier: verifier }, {}, "invalid_grant"],
      ["no code", { client_id: ids.app, code: "", code_verifier: verifier }, {}, "invalid_request"],
    ];
    for (const [name, fields, headers, error] of cases) {
      await t.step(name, async () => {
        const refused = await oauthError(await redeem(app, fields, headers));
        assert.equal(refused.error, error, JSON.stringify(refused.body));
        assert.equal(refused.status, 400);
      });
    }
    await t.step("?expired=true does not apply", async () => {
      const response = await redeem(app, { client_id: ids.app, code, code_verifier: verifier }, {}, "?expired=true");
      assert.equal((await oauthError(response)).error, "invalid_request");
    });
    await t.step("the right request still redeems the code", async () => {
      const response = await redeem(app, { client_id: ids.app, code, code_verifier: verifier });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });
    await t.step("a verifier sent for a code without a challenge is refused (no PKCE downgrade)", async () => {
      const plain = await codeFor(app, ids.server.id, { code_challenge: undefined, code_challenge_method: undefined });
      const response = await redeem(
        app,
        { code: plain, code_verifier: verifier },
        basic(ids.server.id, ids.server.secret),
      );
      assert.equal((await oauthError(response)).error, "invalid_grant");
    });
  });
});

Deno.test("a code lives 60 seconds by the server's clock", async () => {
  await withApp(PASSWORD_MODE, async (app) => {
    const ids = await clients(app);
    const { verifier } = pkce();
    const late = await codeFor(app, ids.app);
    const onTime = await codeFor(app, ids.app);
    app.clock.advance((CODE_TTL - 1) * 1000);
    assert.equal((await redeem(app, { client_id: ids.app, code: onTime, code_verifier: verifier })).status, 200);
    app.clock.advance(1000);
    const refused = await oauthError(await redeem(app, { client_id: ids.app, code: late, code_verifier: verifier }));
    assert.equal(refused.error, "invalid_grant");
    assert.match(refused.body.error_description as string, /invalid or expired/);
  });
});

Deno.test("a replayed code is invalid_grant and revokes the access token and refresh family it issued", async () => {
  await withApp(PASSWORD_MODE, async (app) => {
    const ids = await clients(app);
    const { verifier } = pkce();
    const code = await codeFor(app, ids.app);
    const first = await body<Record<string, string>>(
      await redeem(app, { client_id: ids.app, code, code_verifier: verifier }),
    );
    assert.equal(await introspect(app, ids.server, first.access_token!), true);
    app.clock.advance(2000);
    const replay = await oauthError(await redeem(app, { client_id: ids.app, code, code_verifier: verifier }));
    assert.equal(replay.error, "invalid_grant");
    assert.match(replay.body.error_description as string, /already used/);
    assert.equal(await introspect(app, ids.server, first.access_token!), false, "the access token is revoked");
    const refreshed = await formPost(app, "/token", {
      grant_type: "refresh_token",
      client_id: ids.app,
      refresh_token: first.refresh_token!,
    });
    assert.equal((await oauthError(refreshed)).error, "invalid_grant", "the refresh family is revoked");
    const userinfo = await app.fetch("/userinfo", { headers: { authorization: `Bearer ${first.access_token}` } });
    assert.equal(userinfo.status, 401);
    await userinfo.body?.cancel();
  });
});

Deno.test("two redemptions of one code racing: no one walks away with a live token", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const ids = await clients(app);
    const { verifier } = pkce();
    const race = async (scope: string) => {
      const code = await codeFor(app, ids.app, { scope });
      const responses = await Promise.all(
        [0, 1].map(() => redeem(app, { client_id: ids.app, code, code_verifier: verifier })),
      );
      const bodies = await Promise.all(responses.map((response) => body<Record<string, string>>(response)));
      return responses.map((response, i) => ({ status: response.status, body: bodies[i]! }));
    };
    await t.step("without a refresh token: one wins, and its access token is revoked by the replay", async () => {
      const results = await race("openid");
      assert.deepEqual(results.map((result) => result.status).sort(), [200, 400]);
      assert.equal(results.find((result) => result.status === 400)!.body.error, "invalid_grant");
      const winner = results.find((result) => result.status === 200)!.body;
      assert.equal(await introspect(app, ids.server, winner.access_token!), false);
    });
    await t.step("with a refresh token: whatever was issued is revoked, the refresh family too", async () => {
      const results = await race("openid offline_access");
      assert.ok(results.some((result) => result.body.error === "invalid_grant"));
      for (const { body: issued } of results.filter((result) => result.status === 200)) {
        assert.equal(await introspect(app, ids.server, issued.access_token!), false);
        const refreshed = await formPost(app, "/token", {
          grant_type: "refresh_token",
          client_id: ids.app,
          refresh_token: issued.refresh_token!,
        });
        assert.equal((await oauthError(refreshed)).error, "invalid_grant");
      }
    });
  });
});

Deno.test("open mode: the claims of the sign-in go into the ID token and the access token", async () => {
  await withApp({ "rate-limit": "off" }, async (app) => {
    const { verifier, challenge } = pkce();
    const code = await signIn(app.fetch, {
      client_id: "adhoc",
      redirect_uri: "http://127.0.0.1:7000/cb",
      scope: "openid",
      code_challenge: challenge,
      code_challenge_method: "S256",
    }, { username: "dev", claims: '{"roles":["admin"],"email":"dev@example.com"}' });
    const tokens = await body<Record<string, string>>(
      await formPost(app, "/token", {
        grant_type: "authorization_code",
        client_id: "adhoc",
        code,
        code_verifier: verifier,
        redirect_uri: "http://127.0.0.1:7000/cb",
      }),
    );
    const id = decodeJwt(tokens.id_token!);
    assert.equal(id.sub, "dev");
    assert.equal(id.aud, "adhoc");
    assert.deepEqual(id.roles, ["admin"]);
    assert.equal(id.email, "dev@example.com");
    assert.deepEqual(decodeJwt(tokens.access_token!).roles, ["admin"]);
  });
});
