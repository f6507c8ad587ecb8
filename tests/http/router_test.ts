import assert from "node:assert/strict";
import { createRouter, splitUrl } from "../../lib/http/router.ts";
import { parseExpired } from "../../lib/routes/auth.ts";
import { jwksRoutes } from "../../lib/routes/jwks.ts";
import { body, from, GRADER_BEARER, testApp, withApp } from "../support/helpers.ts";

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
