import assert from "node:assert/strict";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oidc from "openid-client";
import { ALGS } from "../../lib/core/key_material.ts";
import { GRANT_TYPES } from "../../lib/oauth/grant_types.ts";
import { GRANTS } from "../../lib/oauth/grants.ts";
import { body, testClock, withApp, withServedApp } from "../support/helpers.ts";
import { type Fetch, pkce, signIn } from "../support/signin.ts";

Deno.test("discovery", async (t) => {
  await withApp({ issuer: "https://issuer.example/tenant" }, async (app) => {
    await t.step("GET /.well-known/openid-configuration names the issuer, its JWKS and OAuth endpoints", async () => {
      const response = await app.fetch("/.well-known/openid-configuration");
      assert.equal(response.headers.get("content-type"), "application/json");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      assert.equal(response.headers.get("cache-control"), `public, max-age=${app.config.policy.maxAge}`);
      const doc = await body(response);
      assert.equal(doc.issuer, "https://issuer.example/tenant");
      assert.equal(doc.jwks_uri, "https://issuer.example/tenant/.well-known/jwks.json");
      assert.equal(doc.token_endpoint, "https://issuer.example/tenant/token");
      assert.equal(doc.introspection_endpoint, "https://issuer.example/tenant/introspect");
      assert.equal(doc.revocation_endpoint, "https://issuer.example/tenant/revoke");
      assert.equal(doc.userinfo_endpoint, "https://issuer.example/tenant/userinfo");
      assert.equal(doc.authorization_endpoint, "https://issuer.example/tenant/authorize");
      assert.deepEqual(doc.grant_types_supported, [
        "authorization_code",
        "client_credentials",
        "password",
        "refresh_token",
      ]);
      assert.deepEqual(doc.response_types_supported, ["code"]);
      assert.deepEqual(doc.response_modes_supported, ["query"]);
      assert.deepEqual(doc.code_challenge_methods_supported, ["S256"], "never plain");
      assert.equal(doc.authorization_response_iss_parameter_supported, true);
      for (const claim of ["auth_time", "nonce", "at_hash"]) {
        assert.ok((doc.claims_supported as string[]).includes(claim), claim);
      }
      assert.deepEqual(doc.id_token_signing_alg_values_supported, ["ES256"], "the algorithm of the published keys");
    });
    await t.step(
      "nothing that does not exist: no registration endpoint",
      async () => {
        const doc = await body(await app.fetch("/.well-known/openid-configuration"));
        assert.equal("registration_endpoint" in doc, false);
        assert.equal(doc.request_uri_parameter_supported, false, "the OIDC default (true) would be untrue");
      },
    );
    await t.step("the OAuth metadata path serves the same document, byte for byte", async () => {
      const a = await (await app.fetch("/.well-known/openid-configuration")).text();
      const b = await (await app.fetch("/.well-known/oauth-authorization-server")).text();
      assert.equal(a, b);
      const head = await app.fetch("/.well-known/openid-configuration", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
    });
    await t.step("browsers may read discovery and the JWKS from any origin, preflight included", async () => {
      for (const path of ["/.well-known/openid-configuration", "/.well-known/jwks.json", "/jwks", "/userinfo"]) {
        const preflight = await app.fetch(path, {
          method: "OPTIONS",
          headers: {
            origin: "https://app.example",
            "access-control-request-method": "GET",
            "access-control-request-headers": "if-none-match",
          },
        });
        assert.equal(preflight.status, 204, path);
        assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
        assert.match(preflight.headers.get("access-control-allow-methods")!, /GET/);
        assert.match(preflight.headers.get("access-control-allow-headers")!, /If-None-Match/i);
      }
    });
    await t.step("endpoints that take passwords or client secrets do not open CORS", async () => {
      for (const path of ["/auth", "/token", "/introspect", "/revoke"]) {
        const preflight = await app.fetch(path, { method: "OPTIONS", headers: { origin: "https://evil.example" } });
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers.get("access-control-allow-origin"), null, path);
        assert.equal(preflight.headers.get("allow"), "POST, OPTIONS");
      }
    });
  });
});

Deno.test("every grant type discovery names has a grant module, and only those", () => {
  assert.deepEqual(Object.keys(GRANTS).sort(), [...GRANT_TYPES].sort());
  for (const [type, grant] of Object.entries(GRANTS)) assert.equal(grant.type, type);
});

Deno.test("id_token_signing_alg_values_supported follows the keys published, as the key set changes", async () => {
  await withApp({ alg: "EdDSA" }, async (app) => {
    const algs = async () =>
      (await body(await app.fetch("/.well-known/openid-configuration"))).id_token_signing_alg_values_supported;
    assert.deepEqual(await algs(), ["EdDSA"]);
    assert.deepEqual(
      (await body<{ keys: { alg: string }[] }>(await app.fetch("/jwks"))).keys.map((key) => key.alg),
      ["EdDSA", "EdDSA"],
    );
  });
});

Deno.test("every endpoint and grant type of the discovery document answers as named", async () => {
  // Real time, frozen: openid-client checks the ID token's exp and iat against its own clock.
  const clock = testClock(Math.floor(Date.now() / 1000) * 1000);
  await withServedApp({ "seed-user": ["alice:alice-password-1"] }, async (url, app) => {
    const doc = await (await fetch(`${url}/.well-known/openid-configuration`)).json();
    const { client, secret } = await app.clients.register({
      name: "every grant",
      grantTypes: [...doc.grant_types_supported],
      scopes: ["openid", "profile", "offline_access"],
      redirectUris: ["http://127.0.0.1/cb"],
    }, 0);
    const config = await oidc.discovery(new URL(url), client.id, undefined, oidc.ClientSecretBasic(secret!), {
      execute: [oidc.allowInsecureRequests],
    });
    assert.equal(config.serverMetadata().issuer, url);
    const answered = new Set<string>();
    const tokens: Record<string, oidc.TokenEndpointResponse> = {};
    for (const type of doc.grant_types_supported as string[]) {
      if (type === "client_credentials") tokens[type] = await oidc.clientCredentialsGrant(config, { scope: "profile" });
      if (type === "password") {
        tokens[type] = await oidc.genericGrantRequest(config, "password", {
          username: "alice",
          password: "alice-password-1",
          scope: "openid profile offline_access",
        });
      }
      if (type === "authorization_code") {
        const { verifier, challenge } = pkce();
        const fetchUrl: Fetch = (path, init) => fetch(`${url}${path}`, init);
        const code = await signIn(fetchUrl, {
          client_id: client.id,
          redirect_uri: "http://127.0.0.1/cb",
          scope: "openid",
          code_challenge: challenge,
          code_challenge_method: "S256",
        }, { username: "alice", password: "alice-password-1" });
        tokens[type] = await oidc.authorizationCodeGrant(
          config,
          new URL(`http://127.0.0.1/cb?code=${code}&iss=${encodeURIComponent(url)}`),
          { pkceCodeVerifier: verifier, idTokenExpected: true },
        );
      }
      if (type === "refresh_token") continue;
      answered.add(type);
    }
    if (doc.grant_types_supported.includes("refresh_token")) {
      const refreshed = await oidc.refreshTokenGrant(config, tokens.password!.refresh_token!);
      assert.equal(typeof refreshed.access_token, "string");
      answered.add("refresh_token");
    }
    assert.deepEqual([...answered].sort(), [...doc.grant_types_supported].sort());

    const jwks = createRemoteJWKSet(new URL(doc.jwks_uri));
    for (const token of Object.values(tokens)) {
      const { protectedHeader } = await jwtVerify(token.access_token, jwks, {
        issuer: doc.issuer,
        algorithms: doc.id_token_signing_alg_values_supported,
        typ: "at+jwt",
        currentDate: new Date(app.clock()),
      });
      assert.ok(doc.id_token_signing_alg_values_supported.includes(protectedHeader.alg));
    }
    const introspected = await oidc.tokenIntrospection(config, tokens.password!.access_token);
    assert.equal(introspected.active, true);
    const info = await oidc.fetchUserInfo(config, tokens.password!.access_token, "alice");
    assert.equal(info.preferred_username, "alice");
    await oidc.tokenRevocation(config, tokens.password!.access_token);
    assert.equal((await oidc.tokenIntrospection(config, tokens.password!.access_token)).active, false);

    for (const method of doc.token_endpoint_auth_methods_supported as string[]) {
      const auth = method === "client_secret_basic"
        ? oidc.ClientSecretBasic(secret!)
        : method === "client_secret_post"
        ? oidc.ClientSecretPost(secret!)
        : oidc.None();
      const registered = method === "none"
        ? (await app.clients.register({ name: "public", public: true }, 0)).client.id
        : client.id;
      const byMethod = await oidc.discovery(new URL(url), registered, undefined, auth, {
        execute: [oidc.allowInsecureRequests],
      });
      const response = method === "none"
        ? await oidc.genericGrantRequest(byMethod, "password", { username: "alice", password: "alice-password-1" })
        : await oidc.clientCredentialsGrant(byMethod);
      assert.equal(typeof response.access_token, "string", method);
    }
    for (const alg of doc.id_token_signing_alg_values_supported) assert.ok((ALGS as readonly string[]).includes(alg));
  }, { clock });
});
