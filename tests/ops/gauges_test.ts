import assert from "node:assert/strict";
import { Metrics } from "../../lib/ops/metrics.ts";
import { type Hasher, HashQueue } from "../../lib/users/hash_queue.ts";
import { LoginLog } from "../../lib/users/login_log.ts";
import { withApp } from "../support/helpers.ts";
import { parseMetrics, sampleValue, scrape } from "../support/prometheus.ts";

Deno.test("key gauges follow the clock: active key age, next activation, last key-set change", async () => {
  await withApp({ "rotate-every": "1h", alg: "RS256" }, async (app) => {
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
