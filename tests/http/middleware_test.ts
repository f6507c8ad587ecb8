import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { MemoryRateLimiter } from "../../lib/core/rate_limit.ts";
import { bearerGuard, noStore, rateHeaders, rateLimit } from "../../lib/http/middleware.ts";
import { json } from "../../lib/http/respond.ts";
import { createRouter, type Handler, type Middleware } from "../../lib/http/router.ts";
import { from, T0, testClock } from "../support/helpers.ts";

/** A router with one POST route at `/x` behind `middleware`, answering with `handler`. */
function serve(middleware: Middleware, handler: Handler = (ctx) => json(ctx, 200, { ok: true })) {
  const router = createRouter([{ path: "/x", methods: { POST: handler }, use: [middleware] }]);
  return (init: RequestInit = {}, ip = "192.0.2.1") =>
    Promise.resolve(router(new Request("http://x/x", { method: "POST", ...init }), from(ip)));
}

Deno.test("rateHeaders() writes the decision as RateLimit-* headers, the reset in whole seconds", () => {
  assert.deepEqual(rateHeaders({ allowed: true, limit: 10, remaining: 3, resetMs: 0 }), {
    "ratelimit-limit": "10",
    "ratelimit-remaining": "3",
    "ratelimit-reset": "0",
  });
  assert.equal(rateHeaders({ allowed: false, limit: 10, remaining: 0, resetMs: 1001 })["ratelimit-reset"], "2");
});

Deno.test("rateLimit() admits up to the limit per client IP, then answers 429 before the handler runs", async () => {
  const clock = testClock();
  const limited: string[] = [];
  let handled = 0;
  const send = serve(
    rateLimit(new MemoryRateLimiter({ limit: 2, windowMs: 1000 }), {
      name: "/x",
      clock,
      onLimited: (name) => limited.push(name),
    }),
    async (ctx) => (handled++, await ctx.request.text(), json(ctx, 200, { ok: true })),
  );
  const first = await send();
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("ratelimit-limit"), "2");
  assert.equal(first.headers.get("ratelimit-remaining"), "1");
  assert.equal((await send()).headers.get("ratelimit-remaining"), "0");
  clock.advance(400);
  const third = await send({ body: "not read" });
  assert.equal(third.status, 429);
  assert.equal(third.headers.get("retry-after"), "1", "the first admitted request leaves the window in 600 ms");
  assert.equal(third.headers.get("ratelimit-remaining"), "0");
  assert.equal(third.headers.get("ratelimit-reset"), "1");
  assert.deepEqual(await third.json(), { error: "rate_limited", message: "Too many requests; retry in 1 s" });
  assert.equal(handled, 2, "the refused request never reached the handler");
  assert.deepEqual(limited, ["/x"]);
  assert.equal((await send({}, "192.0.2.2")).status, 200, "another client has its own window");
  clock.set(T0 + 1000);
  assert.equal((await send()).status, 200, "the window slides");
});

Deno.test("rateLimit() keys the limiter by name and IP, and puts its headers on error answers too", async () => {
  const keys: string[] = [];
  const limiter = {
    check: (key: string) => (keys.push(key), { allowed: true, limit: 5, remaining: 4, resetMs: 0 }),
  };
  const send = serve(rateLimit(limiter, { name: "/auth", clock: testClock() }), () => {
    throw new AppError("unauthorized", "No");
  });
  const response = await send({}, "203.0.113.9");
  assert.equal(response.status, 401);
  assert.equal(response.headers.get("ratelimit-remaining"), "4");
  assert.match(response.headers.get("www-authenticate")!, /^Basic/);
  assert.deepEqual(keys, ["/auth|203.0.113.9"]);
});

Deno.test("rateLimit(null) changes nothing", async () => {
  const send = serve(rateLimit(null, { name: "/x", clock: testClock() }));
  for (let i = 0; i < 20; i++) {
    const response = await send();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("ratelimit-limit"), null);
  }
});

Deno.test("noStore adds Cache-Control: no-store to whatever the handler answers", async () => {
  const send = serve(noStore, (ctx) => json(ctx, 201, {}, { "cache-control": "public, max-age=60", "x-a": "1" }));
  const response = await send();
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("x-a"), "1");
});

Deno.test("bearerGuard() admits exactly the token, and refuses everything else before the body is read", async (t) => {
  const token = "guard-token-0123456789abcdef";
  const refused: string[] = [];
  const admitted: string[] = [];
  let handled = 0;
  const send = serve(
    bearerGuard(token, {
      realm: "test realm",
      onRefused: (ctx) => refused.push(ctx.requestId),
      onAdmitted: (ctx) => admitted.push(ctx.requestId),
    }),
    async (ctx) => (handled++, json(ctx, 200, { read: (await ctx.request.text()).length })),
  );
  await t.step("the token, with any case of the scheme and trailing space", async () => {
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER\t${token}  `]) {
      const response = await send({ headers: { authorization: header, "x-request-id": "ok" }, body: "abc" });
      assert.equal(response.status, 200, header);
      assert.deepEqual(await response.json(), { read: 3 });
    }
    assert.deepEqual(admitted, ["ok", "ok", "ok"]);
  });
  await t.step("no bearer header: 401 naming the realm", async () => {
    for (
      const headers of [{}, { authorization: `Basic ${btoa(`admin:${token}`)}` }, { authorization: "Bearer " }, {
        authorization: `Bearer ${token} ${token}`,
      }]
    ) {
      const request = new Request("http://x/x", { method: "POST", headers, body: "x".repeat(70_000) });
      const response = await createRouter([{
        path: "/x",
        methods: { POST: () => new Response("never") },
        use: [bearerGuard(token, { realm: "test realm" })],
      }])(request, from());
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="test realm"');
      assert.equal((await response.json()).message, "Send Authorization: Bearer <ADMIN_TOKEN>");
      assert.equal(request.bodyUsed, false, "the body is not read before the token");
    }
  });
  await t.step("a wrong token: 401 invalid_token, never echoing it", async () => {
    const before = handled;
    for (const wrong of [token.replace(/.$/, "X"), token.slice(0, 10), `${token}x`]) {
      const response = await send({ headers: { authorization: `Bearer ${wrong}`, "x-request-id": "bad" } });
      assert.equal(response.status, 401, wrong);
      assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="test realm", error="invalid_token"');
      const text = await response.text();
      assert.equal(JSON.parse(text).message, "Invalid admin token");
      assert.ok(!text.includes(wrong.slice(0, 10)));
    }
    assert.equal(handled, before, "no refused request reached the handler");
    assert.equal(refused.filter((id) => id === "bad").length, 3);
  });
});
