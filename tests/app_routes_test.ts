import assert from "node:assert/strict";
import { appRoutes, type RouteParts } from "../lib/app_routes.ts";
import { captureLog, type TestApp, testApp } from "./support/helpers.ts";

const ADMIN = "admin token for the app_routes test, 32+ bytes";

/** The route parts of `app`, as `app.ts` hands them over. */
function partsOf(app: TestApp, overrides: Partial<RouteParts> = {}): RouteParts {
  return {
    config: app.config,
    keys: app.keys,
    store: app.store,
    users: app.users,
    clients: app.clients,
    loginLog: app.loginLog,
    metrics: app.metrics,
    rateLimiter: app.rateLimiter,
    clock: app.clock,
    log: app.log,
    masterSecret: "test master secret, not for production",
    ...overrides,
  };
}

async function pathsOf(flags: Record<string, string>, env: Record<string, string> = {}): Promise<string[]> {
  const app = await testApp(flags, { env });
  try {
    return appRoutes(partsOf(app)).map((route) => route.path);
  } finally {
    await app.close();
  }
}

const ALWAYS = [
  "/.well-known/jwks.json",
  "/jwks",
  "/auth",
  "/token",
  "/introspect",
  "/revoke",
  "/userinfo",
  "/authorize",
  "/authorize/login",
  "/authorize/signin.css",
  "/register",
  "/.well-known/openid-configuration",
  "/.well-known/oauth-authorization-server",
  "/",
  "/console/console.js",
  "/console/console.css",
  "/console/keys.json",
  "/console/keys.html",
  "/healthz",
  "/readyz",
  "/metrics",
];

Deno.test("appRoutes() mounts every endpoint family once, in registration order", async (t) => {
  await t.step("open mode adds /probe/tokens; no admin API without ADMIN_TOKEN", async () => {
    const paths = await pathsOf({});
    assert.deepEqual(paths, [...ALWAYS, "/probe/tokens"]);
  });
  await t.step("password mode has no forged-token route", async () => {
    assert.deepEqual(await pathsOf({ auth: "password" }), ALWAYS);
  });
  await t.step("ADMIN_TOKEN adds the admin API after the rest, and no path twice", async () => {
    const paths = await pathsOf({ auth: "password" }, { ADMIN_TOKEN: ADMIN });
    assert.deepEqual(paths.slice(0, ALWAYS.length), ALWAYS);
    const admin = paths.slice(ALWAYS.length);
    assert.ok(admin.length > 0 && admin.every((path) => path.startsWith("/admin/")), admin.join(" "));
    assert.equal(new Set(paths).size, paths.length);
  });
});

Deno.test("/readyz pings the store and logs an outage once, and its end once", async () => {
  const log = captureLog();
  const app = await testApp({}, { log });
  try {
    let down = false;
    const ping = app.store.ping.bind(app.store);
    app.store.ping = () => down ? Promise.reject(new Error("connection refused")) : ping();
    const ready = async () => {
      const response = await app.fetch("/readyz");
      await response.body?.cancel();
      return response.status;
    };
    const events = () => log.lines.map((line) => line.msg).filter((msg) => String(msg).startsWith("database_"));
    assert.equal(await ready(), 200);
    down = true;
    assert.equal(await ready(), 503);
    assert.equal(await ready(), 503);
    assert.deepEqual(events(), ["database_unavailable"], "one line per outage, not per probe");
    down = false;
    assert.equal(await ready(), 200);
    assert.equal(await ready(), 200);
    assert.deepEqual(events(), ["database_unavailable", "database_available"]);
  } finally {
    await app.close();
  }
});

Deno.test("the routes count what they limit and refuse in the app's metrics", async () => {
  const app = await testApp({ auth: "password" });
  try {
    const response = await app.fetch("/auth", {
      method: "POST",
      headers: { authorization: `Basic ${btoa("nobody:wrong")}` },
    });
    assert.equal(response.status, 401);
    await response.body?.cancel();
    const metrics = await (await app.fetch("/metrics")).text();
    assert.match(metrics, /jwks_auth_failures_total\{[^}]*\} 1/);
  } finally {
    await app.close();
  }
});
