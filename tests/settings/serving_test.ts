import assert from "node:assert/strict";
import { Invalid } from "../../lib/settings/define.ts";
import { SERVING_SETTINGS } from "../../lib/settings/serving.ts";

const s = SERVING_SETTINGS;

/** Asserts `parse(text)` throws an Invalid with `why` (and whether it may show the value). */
function refuses(parse: (text: string) => unknown, text: string, why: string | RegExp, show = true): void {
  assert.throws(() => parse(text), (error: unknown) => {
    assert.ok(error instanceof Invalid, `${text}: ${error}`);
    if (typeof why === "string") assert.equal(error.why, why);
    else assert.match(error.why, why);
    assert.equal(error.show, show, text);
    return true;
  });
}

Deno.test("listening: a port from 0 to 65535 and a host name or IP address", () => {
  assert.equal(s.port.parse("0"), 0);
  assert.equal(s.port.parse("65535"), 65535);
  refuses(s.port.parse, "65536", "expected an integer from 0 to 65535");
  assert.equal(s.port.short, "p");
  for (const host of ["127.0.0.1", "::1", "[::1]", "example.com", "my-host"]) {
    assert.equal(s.hostname.parse(host), host);
  }
  for (const host of ["bad host", "a/b", "", "h;rm"]) {
    refuses(s.hostname.parse, host, "expected a host name or IP address");
  }
});

Deno.test("tokens: the auth mode, an issuer URL without a trailing slash, any audience", () => {
  assert.equal(s.authMode.parse("open"), "open");
  refuses(s.authMode.parse, "none", 'expected "open" or "password"');
  assert.equal(s.issuer.parse("https://auth.example.com/tenant///"), "https://auth.example.com/tenant");
  assert.equal(s.issuer.parse("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  refuses(s.issuer.parse, "not a url", "expected a URL");
  assert.equal(s.audience.parse("api://x"), "api://x");
});

Deno.test("proxies and rate limits", () => {
  const loopback = s.trustProxy.parse("loopback");
  assert.deepEqual(loopback.map((block) => [block.v6, block.prefix]), [[false, 8], [true, 128]]);
  for (const text of ["true", "1", "yes", "on"]) assert.deepEqual(s.trustProxy.parse(text), loopback, text);
  for (const text of ["false", "0", "no", "off", "none"]) assert.deepEqual(s.trustProxy.parse(text), [], text);
  assert.equal(s.trustProxy.parse("10.0.0.0/8, 192.0.2.1,fd00::/8").length, 3);
  const cidrs = 'expected addresses or CIDRs such as "10.0.0.0/8,::1", or "loopback"';
  for (const bad of ["maybe", "10.0.0.0/33", "10.0.0.0/8,", "300.1.1.1"]) refuses(s.trustProxy.parse, bad, cidrs);
  assert.deepEqual(s.rateLimit.parse("10/s"), { limit: 10, windowMs: 1000 });
  assert.ok(Object.isFrozen(s.rateLimit.parse("5/m")));
  assert.equal(s.rateLimit.parse("off"), null);
  refuses(s.rateLimit.parse, "fast", /^expected N\/s, N\/m, N\/h/);
  assert.deepEqual(s.rateLimit.fallback, { limit: 10, windowMs: 1000 });
  assert.equal(s.rateLimitStore.parse("memory"), "memory");
  assert.equal(s.rateLimitStore.parse("redis://h:6379"), "redis://h:6379");
  assert.equal(s.rateLimitStore.parse("rediss://h"), "rediss://h");
  refuses(s.rateLimitStore.parse, "memcached://user:pw@h", 'expected "memory" or a redis:// URL', false);
});

Deno.test("seeded users are NAME:PASSWORD entries, and a bad one is never shown", () => {
  assert.deepEqual(s.seedUsers.parse("userABC:password123"), [{ username: "userABC", password: "password123" }]);
  assert.deepEqual(s.seedUsers.parse(" a :p:q,b:2"), [{ username: "a", password: "p:q" }, {
    username: "b",
    password: "2",
  }]);
  for (const text of ["nopassword", ":pw", "name:", "a:1,,b:2"]) {
    refuses(s.seedUsers.parse, text, /^expected NAME:PASSWORD entries/, false);
  }
  assert.equal(s.seedUsers.multiple, true);
  assert.equal(s.seedUsers.secret, true);
});

Deno.test("the admin token needs 16 characters and lives only in the environment", () => {
  assert.equal(s.adminToken.flag, null);
  assert.equal(s.adminToken.parse("0123456789abcdef"), "0123456789abcdef");
  refuses(s.adminToken.parse, "0123456789abcde", "must be at least 16 characters", false);
});

Deno.test("hashing: concurrency 1 to 64, a queue of 0 to 100,000, and the login backoff", () => {
  assert.equal(s.hashConcurrency.parse("64"), 64);
  refuses(s.hashConcurrency.parse, "0", "expected an integer from 1 to 64");
  assert.equal(s.hashConcurrency.fallback, null, "unset: derived from the cores");
  assert.equal(s.hashQueue.parse("0"), 0);
  refuses(s.hashQueue.parse, "100001", "expected an integer from 0 to 100000");
  assert.deepEqual(s.loginBackoff.parse("3, 2s, 1m"), { freeFailures: 3, baseMs: 2000, maxMs: 60_000 });
  assert.deepEqual(s.loginBackoff.parse("0,1s,1s"), { freeFailures: 0, baseMs: 1000, maxMs: 1000 });
  assert.equal(s.loginBackoff.parse(" OFF "), null);
  for (const text of ["5", "5,1s", "x,1s,1m", "5,0s,1m", "5,2m,1m", "5,1s,1m,9", "-1,1s,1m"]) {
    refuses(s.loginBackoff.parse, text, 'expected FREE,BASE,MAX such as "5,1s,15m", or "off"');
  }
  for (const spec of Object.values(s)) assert.equal(spec.scope, "serve");
});

Deno.test("auth log retention is a duration (90 days by default) or off; the log format auto, json or text", () => {
  assert.equal(s.authLogRetention.fallback, 90 * 86_400);
  assert.equal(s.authLogRetention.parse("30d"), 30 * 86_400);
  assert.equal(s.authLogRetention.parse(" Off "), null, "off keeps every row");
  refuses(s.authLogRetention.parse, "10s", "must be at least 60 seconds");
  refuses(s.authLogRetention.parse, "soon", "expected a duration such as 900, 15m, 1h or 7d");
  assert.equal(s.logFormat.fallback, "auto");
  assert.equal(s.logFormat.parse("JSON"), "json");
  refuses(s.logFormat.parse, "pretty", "expected auto, json or text");
});

Deno.test("connection limits: a cap or auto, and header, idle and body timeouts in milliseconds", () => {
  assert.equal(s.maxConnections.parse("auto"), null);
  assert.equal(s.maxConnections.parse("500"), 500);
  assert.equal(s.maxConnections.fallback, null);
  refuses(s.maxConnections.parse, "0", "expected an integer from 1 to 1000000");
  assert.equal(s.headerTimeout.parse("10s"), 10_000);
  assert.equal(s.idleTimeout.parse("250ms"), 250);
  assert.equal(s.bodyTimeout.parse("2m"), 120_000);
  assert.equal(s.bodyTimeout.parse("5"), 5000, "bare numbers are seconds");
  refuses(s.headerTimeout.parse, "50ms", "must be at least 100 ms");
  refuses(s.idleTimeout.parse, "soon", "expected a duration such as 500ms, 10s or 2m");
  assert.deepEqual([s.headerTimeout.fallback, s.idleTimeout.fallback, s.bodyTimeout.fallback], [
    10_000,
    30_000,
    10_000,
  ]);
});
