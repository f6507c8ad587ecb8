import assert from "node:assert/strict";
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { accessLog, MAX_LOGGED_PATH } from "../../lib/ops/access_log.ts";
import { createRouter, type RequestRecord } from "../../lib/http/router.ts";
import { discoveryRoutes } from "../../lib/routes/discovery.ts";
import { healthRoutes } from "../../lib/routes/health.ts";
import type { KeyView } from "../../lib/core/key_ring.ts";
import { type Alg, ALGS } from "../../lib/core/key_material.ts";
import { createLogger } from "../../lib/ops/log.ts";
import { body, captureLog, from, type TestApp, testApp, testClock, withServedApp } from "../support/helpers.ts";

async function withApp(
  flags: Record<string, string | boolean | string[]>,
  fn: (app: TestApp) => Promise<void>,
  options: Parameters<typeof testApp>[1] = {},
): Promise<void> {
  const app = await testApp(flags, options);
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

Deno.test("discovery", async (t) => {
  await withApp({ issuer: "https://issuer.example/tenant" }, async (app) => {
    await t.step("GET /.well-known/openid-configuration names the issuer, its JWKS and token endpoint", async () => {
      const response = await app.fetch("/.well-known/openid-configuration");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/json");
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

Deno.test("POST /auth offers no choice of algorithm: ?alg= is ignored", async () => {
  await withApp({ alg: "ES256" }, async (app) => {
    for (const query of ["?alg=HS256", "?alg=none", "?alg=RS256"]) {
      const response = await app.fetch(`/auth${query}`, { method: "POST" });
      assert.equal(response.status, 200, query);
      const { token } = await body<{ token: string }>(response);
      assert.equal(decodeProtectedHeader(token).alg, "ES256", query);
    }
  });
});

Deno.test("GET /healthz answers while the process is alive, whatever the key set or the database", async () => {
  await withApp({}, async (app) => {
    const response = await app.fetch("/healthz");
    assert.equal(response.status, 200);
    assert.deepEqual(await body(response), { status: "ok" });
    assert.equal(response.headers.get("cache-control"), "no-store");
    await app.store.close();
    assert.equal((await app.fetch("/healthz")).status, 200);
    assert.equal((await app.fetch("/readyz")).status, 503);
  });
});

/** The view `app` has now, with some parts replaced. */
function stubKeys(app: TestApp, change: (view: KeyView) => Partial<KeyView>): { view(): KeyView; now(): number } {
  return {
    view: () => ({ ...app.keys.view(), ...change(app.keys.view()) }),
    now: () => app.keys.now(),
  };
}

Deno.test("GET /readyz", async (t) => {
  const app = await testApp({});
  try {
    await t.step("is 200 when the database answers, a key signs and the next key is published in time", async () => {
      const response = await app.fetch("/readyz");
      assert.equal(response.status, 200);
      assert.deepEqual(await body(response), { status: "ready" });
    });
    const cases: [string, (view: KeyView) => Partial<KeyView>, RegExp][] = [
      ["no key signs", () => ({ active: null }), /no active signing key/],
      ["no next key is published", () => ({ next: null }), /no published next key/],
      [
        "the next key would sign sooner than the lead time after it was published",
        (view) => ({ next: { ...view.next!, publishedAt: view.next!.activatesAt - 10 } }),
        /less than the lead time/,
      ],
    ];
    for (const [when, change, reason] of cases) {
      await t.step(`is 503 with the reason when ${when}`, async () => {
        const router = createRouter(
          healthRoutes({ keys: stubKeys(app, change), ping: () => app.store.ping(), lead: app.config.policy.lead }),
        );
        const response = await router(new Request("http://x/readyz"), from());
        assert.equal(response.status, 503);
        const doc = await body<{ error: string; message: string; checks: string[] }>(response);
        assert.equal(doc.error, "unavailable");
        assert.match(doc.message, reason);
        assert.equal(doc.checks.length, 1);
      });
    }
  } finally {
    await app.close();
  }
});

Deno.test("GET /readyz follows the database file", async (t) => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/keys.db`;
  const log = captureLog();
  const app = await testApp({ db }, { log });
  try {
    await t.step("moved away: 503 naming the problem, and no new empty file is created", async () => {
      await Deno.rename(db, `${dir}/moved.db`);
      const response = await app.fetch("/readyz");
      assert.equal(response.status, 503);
      const doc = await body<{ message: string }>(response);
      assert.match(doc.message, /Database file is missing/);
      assert.ok(!doc.message.includes(dir), "the path is not shown");
      await assert.rejects(Deno.stat(db), Deno.errors.NotFound);
      assert.equal((await app.fetch("/readyz")).status, 503);
    });
    await t.step("moved back: 200 again", async () => {
      await Deno.rename(`${dir}/moved.db`, db);
      assert.equal((await app.fetch("/readyz")).status, 200);
    });
    await t.step("replaced by another file: 503 until the original returns", async () => {
      await Deno.rename(db, `${dir}/original.db`);
      await Deno.copyFile(`${dir}/original.db`, db);
      const response = await app.fetch("/readyz");
      assert.equal(response.status, 503);
      assert.match((await body<{ message: string }>(response)).message, /replaced by another file/);
      await Deno.rename(`${dir}/original.db`, db);
      assert.equal((await app.fetch("/readyz")).status, 200);
    });
    await t.step("each outage is logged once when it starts and once when it ends", () => {
      const events = log.lines.map((line) => line.msg).filter((msg) => String(msg).startsWith("database_"));
      assert.deepEqual(events, [
        "database_unavailable",
        "database_available",
        "database_unavailable",
        "database_available",
      ]);
    });
    await t.step({
      name: "unreadable (mode 000): 503 until its mode is restored",
      ignore: Deno.uid() === 0, // the superuser reads any file whatever its mode
      fn: async () => {
        await Deno.chmod(db, 0o000);
        try {
          const response = await app.fetch("/readyz");
          assert.equal(response.status, 503);
          assert.match((await body<{ message: string }>(response)).message, /not readable/);
        } finally {
          await Deno.chmod(db, 0o644);
        }
        assert.equal((await app.fetch("/readyz")).status, 200);
      },
    });
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const JSON_TYPE = { "content-type": "application/json" };

Deno.test("every response carries X-Request-Id: the caller's when sane, else a fresh UUID", async () => {
  await withApp({ auth: "password" }, async (app) => {
    const etag = (await app.fetch("/jwks")).headers.get("etag")!;
    const requests: [string, RequestInit][] = [
      ["/.well-known/jwks.json", {}],
      ["/jwks", { headers: { "if-none-match": etag } }],
      ["/jwks", { method: "HEAD" }],
      ["/jwks", { method: "OPTIONS" }],
      ["/jwks", { method: "POST" }],
      ["/nowhere", {}],
      ["/auth", { method: "POST" }],
      ["/auth?expired=maybe", { method: "POST" }],
      ["/auth", { method: "POST", headers: JSON_TYPE, body: "x".repeat(70_000) }],
      ["/auth", { method: "POST", body: '{"username":"text-plain"}' }],
      ["/register", { method: "POST", headers: JSON_TYPE, body: "{" }],
      [
        "/register",
        { method: "POST", headers: JSON_TYPE, body: JSON.stringify({ username: "dora", email: "dora@example.com" }) },
      ],
      ["/.well-known/openid-configuration", {}],
      ["/healthz", {}],
      ["/readyz", {}],
      ["/metrics", {}],
    ];
    const statuses = new Set<number>();
    for (const [path, init] of requests) {
      const given = await app.fetch(path, { ...init, headers: { ...init.headers, "x-request-id": "trace-42.a:b@c" } });
      statuses.add(given.status);
      assert.equal(given.headers.get("x-request-id"), "trace-42.a:b@c", `${init.method ?? "GET"} ${path}`);
      await given.body?.cancel();
      const fresh = await app.fetch(path, init);
      assert.match(fresh.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/, `${init.method ?? "GET"} ${path}`);
      await fresh.body?.cancel();
    }
    assert.deepEqual([...statuses].sort(), [200, 201, 204, 304, 400, 401, 404, 405, 413, 415]);
    for (const bad of ["x".repeat(200), "has space", 'quote"d', ""]) {
      const response = await app.fetch("/healthz", { headers: { "x-request-id": bad } });
      assert.match(response.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/, JSON.stringify(bad));
      await response.body?.cancel();
    }
  });
});

Deno.test("the access log writes one line per request with what an operator needs and no more", async (t) => {
  const log = captureLog();
  const records: RequestRecord[] = [];
  const hook = accessLog(log);
  await withApp({}, async (app) => {
    const get = (path: string, init: RequestInit = {}) =>
      app.fetch(path, { ...init, ip: "192.0.2.7" }).then((r) => r.body?.cancel());
    await t.step("method, path, route, status, duration, client IP and request id", async () => {
      await get("/auth?expired=true", {
        method: "POST",
        headers: { authorization: "Basic YWxpY2U6aHVudGVyMg==", "x-request-id": "req-1" },
      });
      assert.equal(log.lines.length, 1);
      const line = log.lines[0]!;
      assert.deepEqual(Object.keys(line).sort(), [
        "ip",
        "level",
        "method",
        "ms",
        "msg",
        "path",
        "requestId",
        "route",
        "status",
        "time",
      ]);
      assert.equal(line.msg, "request");
      assert.equal(line.level, "info");
      assert.equal(line.method, "POST");
      assert.equal(line.path, "/auth", "no query string");
      assert.equal(line.route, "/auth");
      assert.equal(line.status, 200);
      assert.equal(line.ip, "192.0.2.7");
      assert.equal(line.requestId, "req-1");
      assert.equal(typeof line.ms, "number");
      assert.ok(!JSON.stringify(line).includes("YWxpY2U6aHVudGVyMg"), "no header value");
    });
    await t.step("an absurd path or method is cut short", async () => {
      await get(`/${"a".repeat(5000)}`);
      const line = log.lines.at(-1)!;
      assert.equal(line.route, "unmatched");
      assert.equal(line.status, 404);
      assert.equal(String(line.path).length, MAX_LOGGED_PATH + 1);
      hook({ method: "X".repeat(100), path: "/", route: "/", status: 405, ms: 0.1234567, ip: "::1", requestId: "r" });
      assert.equal(String(log.lines.at(-1)!.method).length, 16);
      assert.equal(log.lines.at(-1)!.ms, 0.123);
      const odd = '/q"x\\y\n\u00e9\u0000';
      hook({ method: "GET", path: odd, route: "unmatched", status: 404, ms: 12.0005, ip: "::1", requestId: "r" });
      assert.equal(log.lines.at(-1)!.path, odd, "quotes, backslashes, controls and non-ASCII stay valid JSON");
      assert.equal(log.lines.at(-1)!.ms, 12.001);
    });
  }, { app: { onRequest: (record) => (records.push(record), hook(record)) } });
  await t.step("at LOG_LEVEL=warn there is no access log", () => {
    const lines: string[] = [];
    const quiet = accessLog(createLogger({ level: "warn", clock: testClock(), write: (line) => lines.push(line) }));
    quiet(records[0]!);
    assert.deepEqual(lines, []);
  });
});

Deno.test("log lines redact fields named like secrets and keep the time of each line", () => {
  const clock = testClock();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "info", clock, write: (line) => lines.push(JSON.parse(line)) });
  log.info("a", { password: "p1", adminToken: "t1", authorization: "Basic x", user: "u" });
  clock.advance(1);
  log.info("b", { password: "p2", error: new RangeError("bad") });
  log.debug("hidden", {});
  assert.deepEqual(lines, [
    {
      time: new Date(clock() - 1).toISOString(),
      level: "info",
      msg: "a",
      password: "[redacted]",
      adminToken: "[redacted]",
      authorization: "[redacted]",
      user: "u",
    },
    {
      time: new Date(clock()).toISOString(),
      level: "info",
      msg: "b",
      password: "[redacted]",
      error: { name: "RangeError", message: "bad" },
    },
  ]);
});

Deno.test("key lifecycle events reach the log with the kid and their times", async () => {
  const clock = testClock();
  const log = captureLog(clock);
  const app = await testApp({ "rotate-every": "1h", "key-retention": "0" }, { clock, log });
  try {
    const events = (name: string) => log.lines.filter((line) => line.msg === name);
    const created = events("key_created");
    assert.equal(created.length, 3, "active, next and expired keys at first start");
    for (const line of created) {
      assert.match(String(line.kid), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(line.alg, "RS256");
      assert.equal(typeof line.activatesAt, "number");
      assert.equal(typeof line.exp, "number");
    }
    const first = app.keys.view().active!;
    const second = app.keys.view().next!;

    // The next key takes over between requests: the poll (refresh) notices it.
    clock.advance(3600_000);
    await app.refresh();
    const [retired] = events("key_retired");
    const [activated] = events("key_activated");
    assert.deepEqual(
      { kid: retired?.kid, retiredAt: retired?.retiredAt, exp: retired?.exp },
      { kid: first.kid, retiredAt: first.retiresAt, exp: first.exp },
    );
    assert.deepEqual(
      { kid: activated?.kid, alg: activated?.alg, activatedAt: activated?.activatedAt },
      { kid: second.kid, alg: "RS256", activatedAt: second.activatesAt },
    );

    await app.rotate();
    assert.equal(events("key_created").length, 4, "a new next key");
    const third = app.keys.view().next!;
    await app.keys.apply({ kind: "revoke", kid: third.kid });
    const [revoked] = events("key_revoked");
    assert.equal(revoked?.kid, third.kid);
    assert.equal(revoked?.revokedAt, app.keys.now());

    clock.advance(3 * 3600_000);
    await app.rotate();
    const purged = events("key_purged");
    assert.ok(purged.length >= 1, "expired keys past retention are purged");
    for (const line of purged) assert.equal(typeof line.exp, "number");
    assert.ok(purged.some((line) => line.kid === third.kid || line.kid === first.kid));
  } finally {
    await app.close();
  }
});

Deno.test("changing --alg publishes a key of the new type and switches after the lead time", async (t) => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/keys.db`;
  const clock = testClock();
  try {
    const before = await testApp({ db, alg: "RS256" }, { clock });
    const oldToken = (await body<{ token: string }>(await before.fetch("/auth", { method: "POST" }))).token;
    const oldNext = before.keys.view().next!.kid;
    await before.close();

    const log = captureLog(clock);
    const after = await testApp({ db, alg: "EdDSA" }, { clock, log });
    try {
      const jwks = async () => (await body<{ keys: Record<string, string>[] }>(await after.fetch("/jwks"))).keys;
      await t.step("both key types are published during the change, each with kid, alg and use", async () => {
        const keys = await jwks();
        assert.deepEqual(keys.map((key) => key.alg).sort(), ["EdDSA", "RS256"]);
        for (const key of keys) {
          assert.ok(key.kid && key.alg && key.use === "sig");
        }
        assert.ok(!keys.some((key) => key.kid === oldNext), "the waiting RS256 key, never used, is withdrawn");
        assert.ok(log.lines.some((line) => line.msg === "key_revoked" && line.kid === oldNext));
      });
      await t.step("tokens signed before the change still verify", async () => {
        await jwtVerify(oldToken, createLocalJWKSet({ keys: await jwks() }), { currentDate: new Date(clock()) });
      });
      await t.step("the old key signs until the new one has been published for the lead time", async () => {
        const { token } = await body<{ token: string }>(await after.fetch("/auth", { method: "POST" }));
        assert.equal(decodeProtectedHeader(token).alg, "RS256");
        clock.advance(after.config.policy.lead * 1000);
        await after.rotate();
        const next = await body<{ token: string }>(await after.fetch("/auth", { method: "POST" }));
        assert.equal(decodeProtectedHeader(next.token).alg, "EdDSA");
        const set = createLocalJWKSet({ keys: await jwks() });
        await jwtVerify(next.token, set, { currentDate: new Date(clock()) });
        await jwtVerify(oldToken, set, { currentDate: new Date(clock()) });
      });
      await t.step("once switched, a restart with the same --alg changes nothing", async () => {
        const kids = (await jwks()).map((key) => key.kid);
        const result = await after.keys.apply();
        assert.equal(result.changed, false);
        assert.deepEqual((await jwks()).map((key) => key.kid), kids);
        assert.equal(after.keys.view().next!.alg, "EdDSA");
      });
    } finally {
      await after.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("switching back before the new key signed withdraws it; the next key is of the old type again", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/keys.db`;
  const clock = testClock();
  try {
    for (const alg of ["RS256", "ES256"] as Alg[]) await (await testApp({ db, alg }, { clock })).close();
    const app = await testApp({ db, alg: "RS256" }, { clock });
    try {
      const view = app.keys.view();
      assert.equal(view.active!.alg, "RS256");
      assert.equal(view.next!.alg, "RS256");
      assert.equal(view.next!.activatesAt, view.active!.retiresAt);
      assert.ok(view.next!.activatesAt >= view.next!.publishedAt + app.config.policy.lead);
      const algs = view.jwks.keys.map((key) => key.alg);
      assert.deepEqual(algs, ["RS256", "RS256"], "the ES256 key that never signed is gone");
    } finally {
      await app.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("while a graceful stop drains, every new request gets 503 with Retry-After and Connection: close", async () => {
  await withApp({}, async (app) => {
    app.drain();
    for (const path of ["/jwks", "/auth", "/healthz", "/nowhere"]) {
      const response = await app.handle(new Request(`http://x${path}`, { headers: { "x-request-id": "d-1" } }), from());
      assert.equal(response.status, 503, path);
      assert.equal(response.headers.get("retry-after"), "1");
      assert.equal(response.headers.get("connection"), "close");
      assert.equal(response.headers.get("x-request-id"), "d-1");
      assert.equal((await body(response)).error, "unavailable");
    }
  });
});
