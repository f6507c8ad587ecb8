import assert from "node:assert/strict";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { createRouter, splitUrl } from "../../lib/http/router.ts";
import { parseExpired } from "../../lib/routes/auth.ts";
import { jwksRoutes } from "../../lib/routes/jwks.ts";
import { body, from, type TestApp, testApp } from "../support/helpers.ts";

const GRADER_BEARER = { authorization: `Bearer ${"ab".repeat(32)}` };

async function jwks(app: TestApp) {
  return await body<{ keys: Record<string, unknown>[] }>(await app.fetch("/.well-known/jwks.json"));
}

async function token(app: TestApp, path = "/auth", init: RequestInit = { method: "POST" }) {
  const response = await app.fetch(path, init);
  assert.equal(response.status, 200, await response.clone().text());
  return (await body<{ token: string }>(response)).token;
}

async function withApp(flags: Record<string, string | boolean | string[]>, fn: (app: TestApp) => Promise<void>) {
  const app = await testApp(flags);
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

Deno.test("GET /.well-known/jwks.json", async (t) => {
  await withApp({}, async (app) => {
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

Deno.test("wrong methods get 405 with Allow; unknown paths get 404; both as JSON", async () => {
  await withApp({}, async (app) => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH", "HEAD"]) {
      const response = await app.fetch("/auth", { method, headers: GRADER_BEARER });
      assert.equal(response.status, 405, `${method} /auth`);
      assert.equal(response.headers.get("allow"), "POST, OPTIONS");
      if (method !== "HEAD") assert.equal((await body(response)).error, "method_not_allowed");
    }
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const response = await app.fetch("/.well-known/jwks.json", { method });
      assert.equal(response.status, 405, `${method} /.well-known/jwks.json`);
      assert.equal(response.headers.get("allow"), "GET, HEAD, OPTIONS");
      assert.deepEqual(await body(response), {
        error: "method_not_allowed",
        message: `Method ${method} is not allowed here`,
      });
    }
    const missing = await app.fetch("/nope?x=1");
    assert.equal(missing.status, 404);
    assert.deepEqual(await body(missing), { error: "not_found", message: "No such endpoint" });
  });
});

Deno.test("POST /auth in open mode", async (t) => {
  await withApp({ "rate-limit": "off" }, async (app) => {
    await t.step("issues a token that verifies against the JWKS, with the contract's header and claims", async () => {
      const jwt = await token(app);
      const keySet = createLocalJWKSet(await jwks(app));
      const { payload, protectedHeader } = await jwtVerify(jwt, keySet, { currentDate: new Date(app.clock()) });
      assert.equal(protectedHeader.alg, "RS256");
      assert.equal(protectedHeader.typ, "JWT");
      assert.ok((await jwks(app)).keys.some((key) => key.kid === protectedHeader.kid));
      const now = Math.floor(app.clock() / 1000);
      assert.equal(payload.iss, "http://127.0.0.1:8080");
      assert.equal(payload.sub, "anonymous");
      assert.equal(payload.iat, now);
      assert.equal(payload.exp, now + 900);
      assert.match(payload.jti!, /^[0-9a-f-]{36}$/);
      assert.equal(payload.aud, undefined);
    });
    await t.step("takes the username from JSON, form or Basic, and ignores Bearer", async () => {
      const subject = async (init: RequestInit) =>
        decodeJwt(await token(app, "/auth", { method: "POST", ...init })).sub;
      assert.equal(
        await subject({ headers: { "content-type": "application/json" }, body: '{"username":"json-user"}' }),
        "json-user",
      );
      assert.equal(
        await subject({
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "username=form-user&password=x",
        }),
        "form-user",
      );
      assert.equal(await subject({ headers: { authorization: `Basic ${btoa("basic-user:pw")}` } }), "basic-user");
      assert.equal(await subject({ headers: GRADER_BEARER }), "anonymous");
      const curl = { "content-type": "application/x-www-form-urlencoded" };
      assert.equal(await subject({ headers: curl, body: '{"username":"curl-user"}' }), "curl-user", "curl -d '{…}'");
      assert.equal(await subject({}), "anonymous", "curl -X POST with no body");
    });
    await t.step(
      "a body of any other type is 415 before it is read: text/plain is what a cross-site page sends",
      async () => {
        for (
          const type of ["text/plain", "text/plain;charset=UTF-8", "multipart/form-data; boundary=x", "application/xml"]
        ) {
          const response = await app.fetch("/auth", {
            method: "POST",
            headers: { "content-type": type },
            body: '{"username":"cross-site"}',
          });
          assert.equal(response.status, 415, type);
          assert.equal((await body(response)).error, "unsupported_media_type");
        }
        const registered = await app.fetch("/register", {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: '{"username":"csrf","email":"csrf@example.com"}',
        });
        assert.equal(registered.status, 415, "a cross-site text/plain post registers no one");
        const empty = await app.fetch("/auth", { method: "POST", headers: { "content-type": "text/plain" } });
        assert.equal(empty.status, 200, "no body is not a body, whatever its declared type");
        await empty.body?.cancel();
      },
    );
    await t.step("?expired=true signs with an expired key whose kid is not in the JWKS", async () => {
      for (const query of ["?expired=true", "?expired", "?expired=1&x=y"]) {
        const jwt = await token(app, `/auth${query}`);
        const keySet = createLocalJWKSet(await jwks(app));
        const { kid } = decodeProtectedHeader(jwt);
        assert.ok(!(await jwks(app)).keys.some((key) => key.kid === kid), "kid not published");
        assert.ok(decodeJwt(jwt).exp! < app.clock() / 1000, "exp in the past");
        await assert.rejects(jwtVerify(jwt, keySet), errors.JWKSNoMatchingKey);
      }
    });
    await t.step("?expired=false is a normal token and any other value is 400", async () => {
      const jwt = await token(app, "/auth?expired=false");
      assert.ok(decodeJwt(jwt).exp! > app.clock() / 1000);
      for (const value of ["yes", "TRUEISH", "2"]) {
        const response = await app.fetch(`/auth?expired=${value}`, { method: "POST" });
        assert.equal(response.status, 400);
        assert.equal((await body(response)).error, "bad_request");
      }
      assert.equal((await app.fetch("/auth?expired=true&expired=false", { method: "POST" })).status, 400);
    });
    await t.step("bad bodies are 400, 413 or 415 with JSON errors", async () => {
      const post = (init: RequestInit) => app.fetch("/auth", { method: "POST", ...init });
      const bad = await post({ headers: { "content-type": "application/json" }, body: "{nope" });
      assert.deepEqual([bad.status, (await body(bad)).error], [400, "invalid_json"]);
      const array = await post({ headers: { "content-type": "application/json" }, body: "[1]" });
      assert.deepEqual([array.status, (await body(array)).error], [400, "invalid_json"]);
      const typed = await post({ headers: { "content-type": "application/json" }, body: '{"username":5}' });
      assert.deepEqual(await body(typed), {
        error: "invalid_field",
        message: 'Field "username" must be a string',
        field: "username",
      });
      const big = await post({ headers: { "content-type": "application/json" }, body: "x".repeat(64 * 1024 + 1) });
      assert.deepEqual([big.status, (await body(big)).error], [413, "payload_too_large"]);
      const streamed = await post({
        headers: { "content-type": "application/json" },
        body: new Blob(["{", " ".repeat(70_000), "}"]).stream(),
      });
      assert.equal(streamed.status, 413, "a chunked body is cut off at the limit too");
      const xml = await post({ headers: { "content-type": "application/xml" }, body: "<a/>" });
      assert.deepEqual([xml.status, (await body(xml)).error], [415, "unsupported_media_type"]);
      const utf = await post({
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      });
      assert.deepEqual([utf.status, (await body(utf)).error], [400, "bad_request"]);
    });
  });
});

Deno.test("tokens follow the rotation and never outlive their key", async () => {
  await withApp({ "rotate-every": "10m", "token-ttl": "15m" }, async (app) => {
    const first = decodeProtectedHeader(await token(app)).kid;
    const view = app.keys.view();
    assert.equal(view.active!.kid, first);
    app.clock.set((view.active!.retiresAt - 1) * 1000);
    const late = await token(app);
    assert.equal(decodeProtectedHeader(late).kid, first);
    assert.ok(decodeJwt(late).exp! <= view.active!.exp, "exp capped at the key's exp");
    app.clock.set(view.active!.retiresAt * 1000);
    await app.rotate();
    const second = decodeProtectedHeader(await token(app)).kid;
    assert.equal(second, view.next!.kid, "the next key took over on time");
    const kids = (await jwks(app)).keys.map((key) => key.kid);
    assert.ok(kids.includes(first!), "the retired key is still published");
    const keySet = createLocalJWKSet(await jwks(app));
    await jwtVerify(late, keySet, { currentDate: new Date(app.clock()) });
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

Deno.test("every response carries a request id, echoed when the client sent a sane one", async () => {
  await withApp({}, async (app) => {
    const given = await app.fetch("/healthz", { headers: { "x-request-id": "abc-123" } });
    assert.equal(given.headers.get("x-request-id"), "abc-123");
    const made = await app.fetch("/nope", { headers: { "x-request-id": "bad id with spaces" } });
    assert.match(made.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
  });
});

Deno.test("an unexpected error is a generic 500 and is reported with the request id", async () => {
  const app = await testApp();
  const seen: string[] = [];
  try {
    const keys = {
      view: (): never => {
        throw new Error("boom: secret detail");
      },
    };
    const router = createRouter(jwksRoutes({ keys, maxAge: 60 }), { onError: (_, id) => seen.push(id) });
    const response = await router(new Request("http://x/jwks"), from());
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.equal(text, '{"error":"internal","message":"Internal server error"}');
    assert.deepEqual(seen, [response.headers.get("x-request-id")]);
  } finally {
    await app.close();
  }
});

Deno.test("splitUrl() and parseExpired() read the request line", () => {
  assert.deepEqual(splitUrl("http://h:1/a/b?c=d#e"), { path: "/a/b", query: "c=d" });
  assert.deepEqual(splitUrl("http://h"), { path: "/", query: "" });
  assert.deepEqual(splitUrl("http://h/p#x?y"), { path: "/p", query: "" });
  assert.equal(parseExpired(""), false);
  assert.equal(parseExpired("other=1"), false);
  assert.equal(parseExpired("expired=TRUE"), true);
  assert.equal(parseExpired("expired=0"), false);
});
