import assert from "node:assert/strict";
import { escapeLabelValue, formatValue, labelText } from "../../lib/ops/exposition.ts";
import { Metrics, METRICS_CONTENT_TYPE } from "../../lib/ops/metrics.ts";
import { LoginLog } from "../../lib/users/login_log.ts";
import { type Hasher, HashQueue } from "../../lib/users/hash_queue.ts";
import { T0, type TestApp, testApp } from "../support/helpers.ts";
import { type Family, parseMetrics, sampleValue } from "../support/prometheus.ts";

async function scrape(app: TestApp): Promise<Map<string, Family>> {
  const response = await app.fetch("/metrics");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
  return parseMetrics(await response.text());
}

async function withApp(
  flags: Record<string, string | boolean | string[]>,
  fn: (app: TestApp) => Promise<void>,
): Promise<void> {
  const app = await testApp(flags);
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

Deno.test("the text format escapes label values and writes special values the Prometheus way", () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.equal(labelText({}), "");
  assert.equal(labelText({ route: "/x", code: '"' }), '{route="/x",code="\\""}');
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(0.25), "0.25");
  assert.equal(formatValue(42), "42");
});

Deno.test("GET /metrics serves every family in valid exposition format, each with HELP and TYPE", async () => {
  await withApp({}, async (app) => {
    await app.fetch("/healthz");
    const families = await scrape(app);
    for (
      const name of [
        "jwks_http_requests_total",
        "jwks_http_request_duration_seconds",
        "jwks_http_requests_in_flight",
        "jwks_tokens_issued_total",
        "jwks_auth_failures_total",
        "jwks_rate_limited_total",
        "jwks_keyset_responses_total",
        "jwks_hash_queue_depth",
        "jwks_hash_in_progress",
        "jwks_active_key_age_seconds",
        "jwks_next_key_activation_seconds",
        "jwks_keyset_last_change_age_seconds",
        "jwks_published_keys",
        "jwks_auth_log_write_failures_total",
        "jwks_auth_log_dropped_total",
        "process_start_time_seconds",
      ]
    ) {
      const family = families.get(name);
      assert.ok(family !== undefined, `${name} is exposed`);
      assert.ok(family.help.length > 0, `${name} has HELP text`);
    }
    assert.equal(sampleValue(families, "jwks_http_requests_in_flight"), 1, "the scrape itself is in flight");
    assert.equal(sampleValue(families, "process_start_time_seconds"), T0 / 1000);
    const response = await app.fetch("/metrics");
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.ok(response.headers.get("x-request-id"));
    await response.body?.cancel();
  });
});

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
    for (let i = 0; i < 6; i++) assert.equal((await login("wrong", `10.0.1.${i}`)).status, 401);
    assert.equal((await login("wrong", "10.0.2.1")).status, 429, "the username is backing off");
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

Deno.test("key gauges follow the clock: active key age, next activation, last key-set change", async () => {
  await withApp({ "rotate-every": "1h" }, async (app) => {
    let families = await scrape(app);
    assert.equal(sampleValue(families, "jwks_active_key_age_seconds"), 0);
    assert.equal(sampleValue(families, "jwks_next_key_activation_seconds"), 3600);
    assert.equal(sampleValue(families, "jwks_keyset_last_change_age_seconds"), 0);
    assert.equal(sampleValue(families, "jwks_published_keys", { alg: "RS256" }), 2);
    const signing = families.get("jwks_signing_key_info")!.samples;
    assert.equal(signing.length, 1);
    assert.equal(signing[0]!.labels.kid, app.keys.view().active!.kid);

    app.clock.advance(1000_000);
    families = await scrape(app);
    assert.equal(sampleValue(families, "jwks_active_key_age_seconds"), 1000);
    assert.equal(sampleValue(families, "jwks_next_key_activation_seconds"), 2600);
    assert.equal(sampleValue(families, "jwks_keyset_last_change_age_seconds"), 1000);

    app.clock.advance(2600_000);
    await app.rotate();
    families = await scrape(app);
    assert.equal(sampleValue(families, "jwks_active_key_age_seconds"), 0, "the next key took over");
    assert.equal(sampleValue(families, "jwks_keyset_last_change_age_seconds"), 0, "a new next key was published");
    assert.equal(sampleValue(families, "jwks_published_keys", { alg: "RS256" }), 3, "the retired key stays published");
  });
});

Deno.test("the hashing queue depth and the logins in progress are read at scrape time", async () => {
  const gates: (() => void)[] = [];
  const slow: Hasher = {
    hash: () => Promise.resolve("h"),
    verify: () => new Promise<boolean>((resolve) => gates.push(() => resolve(true))),
  };
  const queue = new HashQueue(slow, { concurrency: 1, maxQueue: 2 });
  const metrics = new Metrics({ clock: () => 0, memory: null });
  metrics.watch({ hasher: queue });
  const pending = [queue.verify("h", "p"), queue.verify("h", "p"), queue.verify("h", "p")];
  await assert.rejects(queue.verify("h", "p"), { code: "overloaded" });
  let families = parseMetrics(metrics.render());
  assert.equal(sampleValue(families, "jwks_hash_queue_depth"), 2);
  assert.equal(sampleValue(families, "jwks_hash_in_progress"), 1);
  assert.equal(sampleValue(families, "jwks_hash_concurrency"), 1);
  assert.equal(sampleValue(families, "jwks_hash_rejected_total"), 1);
  while (gates.length > 0 || queue.running > 0) {
    gates.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(pending);
  families = parseMetrics(metrics.render());
  assert.equal(sampleValue(families, "jwks_hash_queue_depth"), 0);
  assert.equal(sampleValue(families, "jwks_hash_in_progress"), 0);
});

Deno.test("auth_logs writes are reported: written, pending, failures and drops", async () => {
  await withApp({}, async (app) => {
    const registered = await app.fetch("/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "bob", email: "bob@example.com" }),
    });
    const { password } = await registered.json();
    const login = await app.fetch("/auth", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "bob", password }),
    });
    assert.equal(login.status, 200);
    await app.loginLog.flush();
    const families = await scrape(app);
    assert.equal(sampleValue(families, "jwks_auth_log_written_total"), 1);
    assert.equal(sampleValue(families, "jwks_auth_log_pending"), 0);
    assert.equal(sampleValue(families, "jwks_auth_log_write_failures_total"), 0);
    assert.equal(sampleValue(families, "jwks_auth_log_dropped_total"), 0);
  });
});

Deno.test("process memory gauges come from the injected reader", () => {
  const metrics = new Metrics({ clock: () => 5000, memory: () => ({ rss: 100, heapUsed: 20, heapTotal: 30 }) });
  const families = parseMetrics(metrics.render());
  assert.equal(sampleValue(families, "process_resident_memory_bytes"), 100);
  assert.equal(sampleValue(families, "deno_heap_used_bytes"), 20);
  assert.equal(sampleValue(families, "deno_heap_total_bytes"), 30);
  assert.equal(sampleValue(families, "process_start_time_seconds"), 5);
});

Deno.test("failed auth_logs writes and rows dropped from a full queue are counted", async () => {
  let failing = true;
  const store = {
    recordLogins: () => failing ? Promise.reject(new Error("disk full")) : Promise.resolve(),
  };
  const failed = Promise.withResolvers<void>();
  const loginLog = new LoginLog(store, { maxQueue: 2, onError: () => failed.resolve() });
  const metrics = new Metrics({ clock: () => 0, memory: null });
  metrics.watch({ loginLog });
  for (let i = 0; i < 3; i++) loginLog.record({ userId: i, ip: "192.0.2.1", at: 0 });
  await failed.promise; // the write behind the logins runs, and fails, on its own
  let families = parseMetrics(metrics.render());
  assert.equal(sampleValue(families, "jwks_auth_log_write_failures_total"), 1);
  assert.equal(sampleValue(families, "jwks_auth_log_dropped_total"), 1);
  assert.equal(sampleValue(families, "jwks_auth_log_pending"), 2);
  failing = false;
  assert.equal(await loginLog.flush(), true);
  families = parseMetrics(metrics.render());
  assert.equal(sampleValue(families, "jwks_auth_log_written_total"), 2);
  assert.equal(sampleValue(families, "jwks_auth_log_pending"), 0);
});
