import assert from "node:assert/strict";
import { body, GRADER_BEARER, withApp } from "../support/helpers.ts";

Deno.test("GET /.well-known/jwks.json", async (t) => {
  await withApp({ alg: "RS256" }, async (app) => {
    await t.step("serves the unexpired keys with public members only", async () => {
      const response = await app.fetch("/.well-known/jwks.json");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/json");
      assert.equal(response.headers.get("cache-control"), `public, max-age=${app.config.policy.maxAge}`);
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      assert.match(response.headers.get("etag")!, /^"[A-Za-z0-9_-]{27}"$/, "a strong ETag");
      const { keys } = await body<{ keys: Record<string, unknown>[] }>(response);
      assert.equal(keys.length, 2, "the active and the next key; the expired key is not published");
      for (const key of keys) {
        assert.deepEqual(Object.keys(key).sort(), ["alg", "e", "kid", "kty", "n", "use"]);
        assert.equal(typeof key.kid, "string");
        assert.equal(key.use, "sig");
        assert.equal(key.alg, "RS256");
      }
    });
    await t.step("GET /jwks and HEAD serve the same set", async () => {
      const a = await app.fetch("/.well-known/jwks.json");
      const b = await app.fetch("/jwks");
      assert.equal(await a.text(), await b.text());
      const head = await app.fetch("/jwks", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("etag"), a.headers.get("etag"));
      assert.equal(await head.text(), "");
    });
    await t.step("each answer carries its own request id over the same bytes", async () => {
      const answers = await Promise.all([1, 2, 3].map(() => app.fetch("/jwks")));
      assert.equal(new Set(answers.map((response) => response.headers.get("x-request-id"))).size, 3);
      assert.equal(new Set(await Promise.all(answers.map((response) => response.text()))).size, 1);
      const traced = await app.fetch("/jwks", { headers: { "x-request-id": "trace-1" } });
      assert.equal(traced.headers.get("x-request-id"), "trace-1");
      assert.notEqual((await app.fetch("/jwks")).headers.get("x-request-id"), "trace-1", "not left on the next one");
      assert.equal((await traced.text()).length, (await (await app.fetch("/jwks")).text()).length);
    });
    await t.step("If-None-Match with the ETag answers 304 without a body", async () => {
      const etag = (await app.fetch("/jwks")).headers.get("etag")!;
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const response = await app.fetch("/jwks", { headers: { "if-none-match": header } });
        assert.equal(response.status, 304, header);
        assert.equal(response.headers.get("etag"), etag);
        assert.equal(await response.text(), "");
      }
      assert.equal((await app.fetch("/jwks", { headers: { "if-none-match": '"stale"' } })).status, 200);
    });
    await t.step("an Authorization header changes nothing", async () => {
      const plain = await app.fetch("/jwks");
      const bearer = await app.fetch("/jwks", { headers: GRADER_BEARER });
      assert.equal(bearer.status, 200);
      assert.equal(await bearer.text(), await plain.text());
    });
    await t.step("CORS preflight is answered", async () => {
      const response = await app.fetch("/.well-known/jwks.json", {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "GET" },
      });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      assert.match(response.headers.get("access-control-allow-methods")!, /GET/);
    });
  });
});

Deno.test("the JWKS body and ETag change only when the key set changes", async () => {
  await withApp({ "rotate-every": "10m" }, async (app) => {
    const a = await app.fetch("/jwks");
    app.clock.advance(60_000);
    await app.rotate();
    const b = await app.fetch("/jwks");
    assert.equal(b.headers.get("etag"), a.headers.get("etag"));
    await app.keys.apply({ kind: "rotate" });
    const c = await app.fetch("/jwks");
    assert.notEqual(c.headers.get("etag"), a.headers.get("etag"));
  });
});
