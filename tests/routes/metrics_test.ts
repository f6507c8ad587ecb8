import assert from "node:assert/strict";
import { T0, withApp } from "../support/helpers.ts";
import { sampleValue, scrape } from "../support/prometheus.ts";

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
