import assert from "node:assert/strict";
import { json } from "../../lib/http/respond.ts";
import { createRouter, type Handler, splitUrl } from "../../lib/http/router.ts";
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

Deno.test("createRouter() answers HEAD, OPTIONS and wrong methods itself, and opens CORS only where asked", async (t) => {
  const get: Handler = (ctx) => json(ctx, 200, { path: ctx.path, query: ctx.query });
  const router = createRouter([
    { path: "/open", methods: { GET: get }, cors: true },
    { path: "/closed", methods: { GET: get, POST: get } },
  ]);
  const send = (path: string, init?: RequestInit) =>
    Promise.resolve(router(new Request(`http://x${path}`, init), from()));
  await t.step("GET gets the handler's answer with path and query split", async () => {
    assert.deepEqual(await body(await send("/closed?a=1")), { path: "/closed", query: "a=1" });
  });
  await t.step("HEAD is the GET answer without its body", async () => {
    const head = await send("/open", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-type"), "application/json");
    assert.equal(await head.text(), "");
  });
  await t.step("a wrong method is 405 with Allow listing HEAD for GET routes, and OPTIONS", async () => {
    const wrong = await send("/open", { method: "DELETE" });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET, HEAD, OPTIONS");
    assert.equal((await send("/closed", { method: "PUT" })).headers.get("allow"), "GET, POST, HEAD, OPTIONS");
  });
  await t.step("preflight: 204 everywhere, CORS headers only on a CORS route", async () => {
    const open = await send("/open", { method: "OPTIONS", headers: { origin: "https://a.example" } });
    assert.equal(open.status, 204);
    assert.equal(open.headers.get("access-control-allow-origin"), "*");
    assert.equal(open.headers.get("access-control-allow-methods"), "GET, HEAD, OPTIONS");
    assert.equal(open.headers.get("access-control-max-age"), "86400");
    const closed = await send("/closed", { method: "OPTIONS", headers: { origin: "https://a.example" } });
    assert.equal(closed.status, 204);
    assert.equal(closed.headers.get("allow"), "GET, POST, HEAD, OPTIONS");
    assert.equal(closed.headers.get("access-control-allow-origin"), null);
    assert.equal(closed.headers.get("access-control-allow-methods"), null);
  });
  await t.step("two routes may not claim one path", () => {
    assert.throws(
      () => createRouter([{ path: "/x", methods: { GET: get } }, { path: "/x", methods: { POST: get } }]),
      /Two routes claim the path "\/x"/,
    );
  });
  await t.step("a client's request id is echoed up to 128 characters; longer ones are replaced", async () => {
    const id = (given: string) => send("/open", { headers: { "x-request-id": given } });
    assert.equal((await id("a".repeat(128))).headers.get("x-request-id"), "a".repeat(128));
    assert.match((await id("a".repeat(129))).headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
  });
});
