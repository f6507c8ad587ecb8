import assert from "node:assert/strict";
import { Metrics } from "../../lib/ops/metrics.ts";
import { withApp } from "../support/helpers.ts";
import { parseMetrics, sampleValue, scrape } from "../support/prometheus.ts";

Deno.test("request counters and the latency histogram follow route, method and status", async () => {
  await withApp({}, async (app) => {
    await app.fetch("/healthz");
    await app.fetch("/healthz");
    await app.fetch("/nope");
    await app.fetch("/healthz", { method: "BREW" });
    await app.fetch("/healthz", { method: "DELETE" });
    const families = await scrape(app);
    const requests = (labels: Record<string, string>) => sampleValue(families, "jwks_http_requests_total", labels);
    assert.equal(requests({ route: "/healthz", method: "GET", status: "200" }), 2);
    assert.equal(requests({ route: "unmatched", method: "GET", status: "404" }), 1, "unknown paths share one series");
    assert.equal(requests({ route: "/healthz", method: "other", status: "405" }), 1, "odd methods cannot add series");
    assert.equal(requests({ route: "/healthz", method: "DELETE", status: "405" }), 1);
    const count = sampleValue(families, "jwks_http_request_duration_seconds_count", { route: "/healthz" });
    assert.equal(count, 4);
    const inf = sampleValue(families, "jwks_http_request_duration_seconds_bucket", { route: "/healthz", le: "+Inf" });
    assert.equal(inf, 4);
    const sum = sampleValue(families, "jwks_http_request_duration_seconds_sum", { route: "/healthz" })!;
    assert.ok(sum >= 0 && Number.isFinite(sum));
  });
});

Deno.test("the histogram puts each observation in the first bucket at or above it", () => {
  const metrics = new Metrics({ clock: () => 0, buckets: [0.1, 1], memory: null });
  metrics.request("/r", "GET", 200, 0.1);
  metrics.request("/r", "GET", 200, 0.5);
  metrics.request("/r", "GET", 200, 30);
  const families = parseMetrics(metrics.render());
  const bucket = (le: string) => sampleValue(families, "jwks_http_request_duration_seconds_bucket", { le });
  assert.equal(bucket("0.1"), 1, "le is inclusive");
  assert.equal(bucket("1"), 2);
  assert.equal(bucket("+Inf"), 3);
  assert.equal(sampleValue(families, "jwks_http_request_duration_seconds_sum"), 30.6);
  assert.ok(!families.has("process_resident_memory_bytes"), "memory gauges are left out when asked");
  assert.ok(!families.has("jwks_active_key_age_seconds"), "key gauges need a key source");
});

Deno.test("label values from routes are escaped, so a strange route name cannot break the format", () => {
  const metrics = new Metrics({ clock: () => 0, memory: null });
  metrics.request('/a"b\\c\nd', "GET", 200, 0.001);
  metrics.rateLimited('/x"y');
  const families = parseMetrics(metrics.render());
  assert.equal(sampleValue(families, "jwks_http_requests_total", { route: '/a"b\\c\nd' }), 1);
  assert.equal(sampleValue(families, "jwks_rate_limited_total", { route: '/x"y' }), 1);
});

Deno.test("tokens issued are counted by algorithm and by whether they were expired", async () => {
  await withApp({ alg: "ES256" }, async (app) => {
    for (const path of ["/auth", "/auth", "/auth?expired=true"]) {
      assert.equal((await app.fetch(path, { method: "POST" })).status, 200);
    }
    const families = await scrape(app);
    assert.equal(sampleValue(families, "jwks_tokens_issued_total", { alg: "ES256", expired: "false" }), 2);
    assert.equal(sampleValue(families, "jwks_tokens_issued_total", { alg: "ES256", expired: "true" }), 1);
    assert.equal(sampleValue(families, "jwks_tokens_issued_total", { alg: "RS256", expired: "false" }), 0);
  });
});

Deno.test("failed logins are counted by reason: missing, invalid, locked out", async () => {
  await withApp({ auth: "password", "seed-user": ["alice:correct horse battery"] }, async (app) => {
    const login = (password: string | null, ip: string) =>
      app.fetch("/auth", {
        method: "POST",
        ip,
        headers: { "content-type": "application/json" },
        body: password === null ? "" : JSON.stringify({ username: "alice", password }),
      });
    assert.equal((await login(null, "10.0.0.1")).status, 401);
    for (let i = 0; i < 6; i++) assert.equal((await login("wrong", "10.0.1.1")).status, 401);
    assert.equal((await login("wrong", "10.0.1.1")).status, 429, "the username is backing off for that IP");
    const families = await scrape(app);
    const failures = (reason: string) => sampleValue(families, "jwks_auth_failures_total", { reason });
    assert.equal(failures("missing_credentials"), 1);
    assert.equal(failures("invalid_credentials"), 6);
    assert.equal(failures("locked_out"), 1);
  });
});

Deno.test("requests refused by the rate limit are counted per route, and the limiter's size is shown", async () => {
  await withApp({}, async (app) => {
    for (let i = 0; i < 11; i++) await app.fetch("/auth", { method: "POST", ip: "10.9.9.9" });
    const families = await scrape(app);
    assert.equal(sampleValue(families, "jwks_rate_limited_total", { route: "/auth" }), 1);
    assert.equal(sampleValue(families, "jwks_rate_limited_total", { route: "/register" }), 0);
    assert.equal(sampleValue(families, "jwks_rate_limiter_keys"), 1);
  });
});

Deno.test("JWKS responses are counted as full bodies (200) or not modified (304)", async () => {
  await withApp({}, async (app) => {
    const first = await app.fetch("/.well-known/jwks.json");
    await first.body?.cancel();
    const etag = first.headers.get("etag")!;
    await app.fetch("/jwks", { headers: { "if-none-match": etag } });
    await app.fetch("/jwks", { headers: { "if-none-match": etag } });
    const families = await scrape(app);
    assert.equal(sampleValue(families, "jwks_keyset_responses_total", { status: "200" }), 1);
    assert.equal(sampleValue(families, "jwks_keyset_responses_total", { status: "304" }), 2);
  });
});
