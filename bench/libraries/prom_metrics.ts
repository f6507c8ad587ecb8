/**
 * `lib/ops/metrics.ts` + `gauges.ts` rewritten on prom-client, as an adopter would: the same
 * families, names, labels and HELP lines, counters and the histogram recorded per request,
 * every gauge read at scrape time through a `collect()` callback. Used to compare the recording
 * cost, the scrape text and the memory of the two; not used by the product.
 * @module
 */
import { ALGS } from "../../lib/core/key_material.ts";
import type { RouterMetrics } from "../../lib/http/router.ts";
import { type MemoryUsage, type MetricSources, QUEUE_FAMILIES } from "../../lib/ops/gauges.ts";
import { DURATION_BUCKETS, Metrics } from "../../lib/ops/metrics.ts";
import type { TestApp } from "../../tests/support/helpers.ts";
import { promClient } from "./deps.ts";

const { Counter, Gauge, Histogram, Registry } = promClient;
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const AUTH_FAILURE_REASONS = ["missing_credentials", "invalid_credentials", "locked_out"] as const;

/** Options of {@linkcode PromMetrics}, as those of our `Metrics`. */
export interface PromMetricsOptions {
  clock: () => number;
  buckets?: readonly number[];
  memory?: (() => MemoryUsage) | null;
}

/** Our metrics registry on prom-client: the same methods as `Metrics`, `render()` is async. */
export class PromMetrics implements RouterMetrics {
  readonly registry: InstanceType<typeof Registry>;
  #sources: MetricSources = {};
  #inFlight: InstanceType<typeof Gauge>;
  #requests: InstanceType<typeof Counter>;
  #durations: InstanceType<typeof Histogram>;
  #tokens: InstanceType<typeof Counter>;
  #authFailures: InstanceType<typeof Counter>;
  #rateLimited: InstanceType<typeof Counter>;
  #keyset: InstanceType<typeof Counter>;

  constructor(options: PromMetricsOptions) {
    const registry = this.registry = new Registry();
    const registers = [registry];
    const sources = () => this.#sources;
    this.#requests = new Counter({
      name: "jwks_http_requests_total",
      help: "HTTP requests answered, by route, method and status.",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.#durations = new Histogram({
      name: "jwks_http_request_duration_seconds",
      help: "Time to answer HTTP requests, by route.",
      labelNames: ["route"],
      buckets: [...(options.buckets ?? DURATION_BUCKETS)],
      registers,
    });
    this.#inFlight = new Gauge({
      name: "jwks_http_requests_in_flight",
      help: "HTTP requests being answered now.",
      registers,
    });
    this.#rateLimited = new Counter({
      name: "jwks_rate_limited_total",
      help: "Requests refused by the per-IP rate limit, by route.",
      labelNames: ["route"],
      registers,
    });
    this.#keyset = new Counter({
      name: "jwks_keyset_responses_total",
      help: "JWKS responses: full body (200) or not modified (304).",
      labelNames: ["status"],
      registers,
    });
    this.#tokens = new Counter({
      name: "jwks_tokens_issued_total",
      help: "Tokens signed, by algorithm and whether they were expired.",
      labelNames: ["alg", "expired"],
      registers,
    });
    this.#authFailures = new Counter({
      name: "jwks_auth_failures_total",
      help: "Failed logins on POST /auth, by reason.",
      labelNames: ["reason"],
      registers,
    });
    // Series that must exist from the start, as ours does.
    for (const alg of ALGS) for (const expired of ["false", "true"]) this.#tokens.inc({ alg, expired }, 0);
    for (const reason of AUTH_FAILURE_REASONS) this.#authFailures.inc({ reason }, 0);
    for (const route of ["/auth", "/register"]) this.#rateLimited.inc({ route }, 0);
    for (const status of ["200", "304"]) this.#keyset.inc({ status }, 0);
    keyGauges(registers, sources);
    queueGauges(registers, sources);
    processGauges(
      registers,
      options.clock() / 1000,
      options.memory === undefined ? () => Deno.memoryUsage() : options.memory,
    );
  }

  watch(sources: MetricSources): void {
    this.#sources = sources;
  }

  requestStarted(): void {
    this.#inFlight.inc();
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.#inFlight.dec();
    this.#requests.inc({ route, method: METHODS.has(method) ? method : "other", status });
    this.#durations.observe({ route }, seconds);
  }

  tokenIssued(alg: string, expired: boolean): void {
    this.#tokens.inc({ alg, expired: String(expired) });
  }

  authFailed(reason: string): void {
    this.#authFailures.inc({ reason });
  }

  rateLimited(route: string): void {
    this.#rateLimited.inc({ route });
  }

  jwksServed(notModified: boolean): void {
    this.#keyset.inc({ status: notModified ? "304" : "200" });
  }

  /** The exposition text (prom-client renders asynchronously). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

type Registers = InstanceType<typeof Registry>[];

/** A gauge whose value is read at scrape time; `read` returns null to leave the sample out. */
function readGauge(registers: Registers, name: string, help: string, read: () => number | null): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      const value = read();
      // A gauge without labels always shows a sample (0 after reset); null cannot remove it.
      this.set(value ?? 0);
    },
  });
}

function keyGauges(registers: Registers, sources: () => MetricSources): void {
  new Gauge({
    name: "jwks_published_keys",
    help: "Keys published in the JWKS, by algorithm.",
    labelNames: ["alg"],
    registers,
    collect() {
      this.reset();
      const keys = sources().keys;
      if (keys === undefined) return;
      for (const key of keys.view().jwks.keys) this.inc({ alg: key.alg });
    },
  });
  new Gauge({
    name: "jwks_signing_key_info",
    help: "The key that signs now (value 1), by kid and algorithm.",
    labelNames: ["kid", "alg"],
    registers,
    collect() {
      this.reset();
      const active = sources().keys?.view().active;
      if (active) this.set({ kid: active.kid, alg: active.alg }, 1);
    },
  });
  const keys = () => sources().keys;
  readGauge(registers, "jwks_active_key_age_seconds", "Seconds since the signing key started signing.", () => {
    const k = keys();
    const active = k?.view().active;
    return k && active ? k.now() - active.activatesAt : null;
  });
  readGauge(
    registers,
    "jwks_next_key_activation_seconds",
    "Seconds until the published next key starts signing.",
    () => {
      const k = keys();
      const next = k?.view().next;
      return k && next ? next.activatesAt - k.now() : null;
    },
  );
  readGauge(
    registers,
    "jwks_keyset_last_change_age_seconds",
    "Seconds since the published key set last changed.",
    () => {
      const k = keys();
      return k ? k.now() - k.view().changedAt : null;
    },
  );
}

function queueGauges(registers: Registers, sources: () => MetricSources): void {
  // The same families as lib/ops/gauges.ts. Counters read from elsewhere: prom-client's Counter
  // can only go up by inc(), so a value owned by another part is a Counter whose collect() adds
  // the difference.
  for (const [source, field, name, help] of QUEUE_FAMILIES) {
    const read = () => (sources()[source] as Record<string, number> | undefined)?.[field] ?? null;
    (name.endsWith("_total") ? readCounter : readGauge)(registers, name, help, read);
  }
  readGauge(registers, "jwks_rate_limiter_keys", "Client keys the in-memory rate limiter tracks.", () => {
    const limiter = sources().rateLimiter;
    const size = limiter != null && "size" in limiter ? limiter.size : undefined;
    return typeof size === "number" ? size : null;
  });
}

function readCounter(registers: Registers, name: string, help: string, read: () => number | null): void {
  let shown = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const value = read() ?? 0;
      if (value > shown) this.inc(value - shown);
      shown = Math.max(shown, value);
    },
  });
}

function processGauges(registers: Registers, startTime: number, memory: (() => MemoryUsage) | null): void {
  readGauge(registers, "process_start_time_seconds", "Start time of the process, in unix seconds.", () => startTime);
  if (memory === null) return;
  readGauge(registers, "process_resident_memory_bytes", "Resident memory size in bytes.", () => memory().rss);
  readGauge(registers, "deno_heap_used_bytes", "V8 heap in use, in bytes.", () => memory().heapUsed);
  readGauge(registers, "deno_heap_total_bytes", "V8 heap reserved, in bytes.", () => memory().heapTotal);
}

/**
 * Our registry and the prom-client one, fed by the same parts of `app` and the same fixed
 * memory reading, so their output and their cost can be compared like for like.
 */
export function metricsPair(app: TestApp) {
  const memory = () => ({ rss: 100, heapUsed: 20, heapTotal: 30 });
  const sources = { keys: app.keys, hasher: app.hasher, loginLog: app.loginLog, rateLimiter: app.rateLimiter };
  const ours = new Metrics({ clock: app.clock, memory });
  const theirs = new PromMetrics({ clock: app.clock, memory });
  ours.watch(sources);
  theirs.watch(sources);
  return { ours, theirs, memory, sources };
}
