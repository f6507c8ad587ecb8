import assert from "node:assert/strict";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { ALGS } from "../../lib/core/key_material.ts";
import { createRouter } from "../../lib/http/router.ts";
import { discoveryRoutes } from "../../lib/routes/discovery.ts";
import { body, from, withApp, withServedApp } from "../support/helpers.ts";

Deno.test("discovery", async (t) => {
  await withApp({ issuer: "https://issuer.example/tenant" }, async (app) => {
    await t.step("GET /.well-known/openid-configuration names the issuer, its JWKS and token endpoint", async () => {
      const response = await app.fetch("/.well-known/openid-configuration");
      assert.equal(response.headers.get("content-type"), "application/json");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      assert.match(response.headers.get("cache-control")!, /^public, max-age=\d+$/);
      const doc = await body(response);
      assert.equal(doc.issuer, "https://issuer.example/tenant");
      assert.equal(doc.jwks_uri, "https://issuer.example/tenant/.well-known/jwks.json");
      assert.equal(doc.token_endpoint, "https://issuer.example/tenant/auth");
      assert.deepEqual(doc.grant_types_supported, ["password"]);
      assert.deepEqual(doc.id_token_signing_alg_values_supported, [...ALGS]);
      for (const field of ["response_types_supported", "subject_types_supported", "claims_supported"]) {
        assert.ok(Array.isArray(doc[field]), field);
      }
    });
    await t.step("the OAuth metadata path serves the same document, byte for byte", async () => {
      const a = await (await app.fetch("/.well-known/openid-configuration")).text();
      const b = await (await app.fetch("/.well-known/oauth-authorization-server")).text();
      assert.equal(a, b);
      const head = await app.fetch("/.well-known/openid-configuration", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
    });
    await t.step("the document follows the settings it was built for", async () => {
      const router = createRouter(discoveryRoutes({ issuer: "http://127.0.0.1:1234", algs: ALGS }));
      const response = await router(new Request("http://x/.well-known/openid-configuration"), from());
      assert.equal((await body(response)).jwks_uri, "http://127.0.0.1:1234/.well-known/jwks.json");
      const again = await body(await app.fetch("/.well-known/openid-configuration"));
      assert.equal(again.issuer, "https://issuer.example/tenant");
    });
    await t.step("browsers may read discovery and the JWKS from any origin, preflight included", async () => {
      for (const path of ["/.well-known/openid-configuration", "/.well-known/jwks.json", "/jwks"]) {
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
        const get = await app.fetch(path, { headers: { origin: "https://app.example" } });
        assert.equal(get.headers.get("access-control-allow-origin"), "*", path);
        await get.body?.cancel();
      }
    });
    await t.step("endpoints that take credentials do not open CORS", async () => {
      const preflight = await app.fetch("/auth", { method: "OPTIONS", headers: { origin: "https://evil.example" } });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-origin"), null);
      assert.equal(preflight.headers.get("allow"), "POST, OPTIONS");
    });
  });
});

for (const alg of ALGS) {
  Deno.test(`a discovery client verifies ${alg} tokens through the jwks_uri it reads from discovery`, async () => {
    await withServedApp({ alg }, async (url, app) => {
      const doc = await (await fetch(`${url}/.well-known/openid-configuration`)).json();
      assert.equal(doc.issuer, url);
      const jwks = await (await fetch(doc.jwks_uri)).json();
      for (const key of jwks.keys) {
        assert.equal(typeof key.kid, "string");
        assert.equal(key.alg, alg);
        assert.equal(key.use, "sig");
      }
      const response = await fetch(doc.token_endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "username=carol",
      });
      const { token } = await response.json();
      const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(doc.jwks_uri)), {
        issuer: doc.issuer,
        algorithms: doc.id_token_signing_alg_values_supported,
        currentDate: new Date(app.clock()),
      });
      assert.equal(protectedHeader.alg, alg);
      assert.equal(payload.sub, "carol");
    });
  });
}
