/**
 * Prometheus metrics: counters and a latency histogram fed by the HTTP edge (the
 * {@linkcode HttpMetrics} hooks), gauges read at scrape time from the key manager, the hashing
 * queue, the login log and the rate limiter, and the `GET /metrics` route that renders them in
 * the Prometheus text format (version 0.0.4).
 *
 * Recording is cheap: label sets are bounded (routes come from the route table, methods and
 * reasons from fixed lists), their text is built once when a series first appears, and a
 * request costs a few map lookups and additions. Nothing here formats dates or reads a clock on
 * the request path.
 * @module
 */
import type { Handler, HttpMetrics, RouteTable } from "../http/router.ts";
import type { KeyView } from "../core/key_ring.ts";
import { ALGS } from "../core/key_material.ts";

/** Upper bounds of the request-latency histogram buckets, in seconds. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
]);

/** `Content-Type` of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Methods counted under their own name; any other becomes `other`, so clients cannot add series. */
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Reasons the edge reports for failed logins, listed so their series exist from the start. */
const AUTH_FAILURE_REASONS = ["missing_credentials", "invalid_credentials", "locked_out"] as const;

/** What the gauges are read from at scrape time; each part is optional. */
export interface MetricSources {
  /** The key set (a `KeyManager`). */
  readonly keys?: { view(): KeyView; now(): number };
  /** The password-hashing queue (a `HashQueue`). */
  readonly hasher?: {
    readonly depth: number;
    readonly running: number;
    readonly concurrency: number;
    readonly rejected: number;
  };
  /** The write-behind `auth_logs` queue (a `LoginLog`). */
  readonly loginLog?: {
    readonly pending: number;
    readonly written: number;
    readonly failures: number;
    readonly dropped: number;
  };
  /** The rate limiter; its `size` (keys tracked) is reported when it has one (in memory). */
  readonly rateLimiter?: object | null;
  /** The signing backend chosen at start. */
  readonly signing?: { readonly name: string; readonly library: string };
}

/** Process memory, as `Deno.memoryUsage()` reports it. */
export interface MemoryUsage {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
}

/** Options of {@linkcode Metrics}. */
export interface MetricsOptions {
  /** Unix milliseconds now; read once, for `process_start_time_seconds`. */
  clock: () => number;
  /** Histogram bucket bounds in seconds, ascending. Default {@linkcode DURATION_BUCKETS}. */
  buckets?: readonly number[];
  /** Process memory; default `Deno.memoryUsage`. Null leaves the memory gauges out. */
  memory?: (() => MemoryUsage) | null;
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Escapes HELP text: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** `{a="x",b="y"}` for the given label pairs, escaped; empty string for none. */
export function labelText(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** A sample value as the text format writes it (`+Inf`, `-Inf`, `NaN` included). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** A counter series with its label text fixed at creation. */
interface Cell {
  readonly labels: string;
  value: number;
}

/** One route's latency histogram: per-bucket (not cumulative) counts, sum and count. */
interface Histogram {
  /** `route="…",` ready to be followed by `le="…"`. */
  readonly prefix: string;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** Writes families in the text format: HELP and TYPE once, then the samples. */
class Exposition {
  readonly lines: string[] = [];

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: string, value: number): this {
    this.lines.push(`${name}${labels} ${formatValue(value)}`);
    return this;
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

/**
 * The metrics registry. Hand it to the HTTP edge as `HttpDeps.metrics`, point it at the running
 * parts with {@linkcode Metrics.watch}, and serve {@linkcode metricsRoutes}.
 */
export class Metrics implements HttpMetrics {
  readonly buckets: readonly number[];
  #startTime: number;
  #memory: (() => MemoryUsage) | null;
  #sources: MetricSources = {};
  #inFlight = 0;
  /** route → method → status → cell. */
  #requests = new Map<string, Map<string, Map<number, Cell>>>();
  #durations = new Map<string, Histogram>();
  /** alg → [not expired, expired]. */
  #tokens = new Map<string, [Cell, Cell]>();
  #authFailures = new Map<string, Cell>();
  #rateLimited = new Map<string, Cell>();
  #jwks200 = 0;
  #jwks304 = 0;

  constructor(options: MetricsOptions) {
    this.buckets = Object.freeze([...(options.buckets ?? DURATION_BUCKETS)]);
    this.#startTime = options.clock() / 1000;
    this.#memory = options.memory === undefined ? () => Deno.memoryUsage() : options.memory;
    for (const alg of ALGS) this.#tokenCells(alg);
    for (const reason of AUTH_FAILURE_REASONS) this.#reasonCell(reason);
    for (const route of ["/auth", "/register"]) this.#rateCell(route);
  }

  /** Requests being answered now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Reads gauges from these parts at every scrape (replacing earlier sources). */
  watch(sources: MetricSources): void {
    this.#sources = sources;
  }

  /** A request was received (for the in-flight gauge). */
  requestStarted(): void {
    this.#inFlight++;
  }

  /** A request finished with `status` after `seconds`. */
  request(route: string, method: string, status: number, seconds: number): void {
    if (this.#inFlight > 0) this.#inFlight--;
    let byMethod = this.#requests.get(route);
    if (byMethod === undefined) this.#requests.set(route, byMethod = new Map());
    const m = METHODS.has(method) ? method : "other";
    let byStatus = byMethod.get(m);
    if (byStatus === undefined) byMethod.set(m, byStatus = new Map());
    let cell = byStatus.get(status);
    if (cell === undefined) {
      cell = { labels: labelText({ route, method: m, status: String(status) }), value: 0 };
      byStatus.set(status, cell);
    }
    cell.value++;

    let histogram = this.#durations.get(route);
    if (histogram === undefined) {
      histogram = {
        prefix: `route="${escapeLabelValue(route)}",`,
        counts: new Float64Array(this.buckets.length),
        sum: 0,
        count: 0,
      };
      this.#durations.set(route, histogram);
    }
    const bounds = this.buckets;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    if (i < bounds.length) histogram.counts[i]!++;
    histogram.sum += seconds;
    histogram.count++;
  }

  /** A token was signed with `alg` (`expired`: for `?expired=true`). */
  tokenIssued(alg: string, expired: boolean): void {
    this.#tokenCells(alg)[expired ? 1 : 0].value++;
  }

  /** A login failed for `reason`. */
  authFailed(reason: string): void {
    this.#reasonCell(reason).value++;
  }

  /** A request to `route` was refused by the rate limiter. */
  rateLimited(route: string): void {
    this.#rateCell(route).value++;
  }

  /** The JWKS was sent (200) or confirmed unchanged (304). */
  jwksServed(notModified: boolean): void {
    if (notModified) this.#jwks304++;
    else this.#jwks200++;
  }

  #tokenCells(alg: string): [Cell, Cell] {
    let cells = this.#tokens.get(alg);
    if (cells === undefined) {
      cells = [
        { labels: labelText({ alg, expired: "false" }), value: 0 },
        { labels: labelText({ alg, expired: "true" }), value: 0 },
      ];
      this.#tokens.set(alg, cells);
    }
    return cells;
  }

  #reasonCell(reason: string): Cell {
    let cell = this.#authFailures.get(reason);
    if (cell === undefined) this.#authFailures.set(reason, cell = { labels: labelText({ reason }), value: 0 });
    return cell;
  }

  #rateCell(route: string): Cell {
    let cell = this.#rateLimited.get(route);
    if (cell === undefined) this.#rateLimited.set(route, cell = { labels: labelText({ route }), value: 0 });
    return cell;
  }

  /** Every metric in the Prometheus text format, gauges read now. */
  render(): string {
    const out = new Exposition();
    this.#renderHttp(out);
    this.#renderAuth(out);
    this.#renderKeys(out);
    this.#renderQueues(out);
    this.#renderProcess(out);
    return out.text();
  }

  #renderHttp(out: Exposition): void {
    out.family("jwks_http_requests_total", "counter", "HTTP requests answered, by route, method and status.");
    for (const byMethod of this.#requests.values()) {
      for (const byStatus of byMethod.values()) {
        for (const cell of byStatus.values()) out.sample("jwks_http_requests_total", cell.labels, cell.value);
      }
    }
    out.family("jwks_http_request_duration_seconds", "histogram", "Time to answer HTTP requests, by route.");
    for (const h of this.#durations.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += h.counts[i]!;
        out.sample(
          "jwks_http_request_duration_seconds_bucket",
          `{${h.prefix}le="${formatValue(this.buckets[i]!)}"}`,
          cumulative,
        );
      }
      const route = `{${h.prefix.slice(0, -1)}}`;
      out.sample("jwks_http_request_duration_seconds_bucket", `{${h.prefix}le="+Inf"}`, h.count);
      out.sample("jwks_http_request_duration_seconds_sum", route, h.sum);
      out.sample("jwks_http_request_duration_seconds_count", route, h.count);
    }
    out.family("jwks_http_requests_in_flight", "gauge", "HTTP requests being answered now.")
      .sample("jwks_http_requests_in_flight", "", this.#inFlight);
    out.family("jwks_rate_limited_total", "counter", "Requests refused by the per-IP rate limit, by route.");
    for (const cell of this.#rateLimited.values()) out.sample("jwks_rate_limited_total", cell.labels, cell.value);
    out.family("jwks_keyset_responses_total", "counter", "JWKS responses: full body (200) or not modified (304).")
      .sample("jwks_keyset_responses_total", '{status="200"}', this.#jwks200)
      .sample("jwks_keyset_responses_total", '{status="304"}', this.#jwks304);
  }

  #renderAuth(out: Exposition): void {
    out.family("jwks_tokens_issued_total", "counter", "Tokens signed, by algorithm and whether they were expired.");
    for (const cells of this.#tokens.values()) {
      for (const cell of cells) out.sample("jwks_tokens_issued_total", cell.labels, cell.value);
    }
    out.family("jwks_auth_failures_total", "counter", "Failed logins on POST /auth, by reason.");
    for (const cell of this.#authFailures.values()) out.sample("jwks_auth_failures_total", cell.labels, cell.value);
  }

  #renderKeys(out: Exposition): void {
    const keys = this.#sources.keys;
    if (keys === undefined) return;
    const view = keys.view();
    const now = keys.now();
    out.family("jwks_published_keys", "gauge", "Keys published in the JWKS, by algorithm.");
    const byAlg = new Map<string, number>();
    for (const key of view.jwks.keys) byAlg.set(key.alg, (byAlg.get(key.alg) ?? 0) + 1);
    for (const [alg, count] of byAlg) out.sample("jwks_published_keys", labelText({ alg }), count);
    const signing = this.#sources.signing;
    if (signing !== undefined) {
      out.family("jwks_signing_backend_info", "gauge", "The signing backend chosen at start (value 1).")
        .sample("jwks_signing_backend_info", labelText({ backend: signing.name, library: signing.library }), 1);
    }
    out.family("jwks_signing_key_info", "gauge", "The key that signs now (value 1), by kid, algorithm and backend.");
    if (view.active !== null) {
      const { kid, alg, signer } = view.active;
      out.sample("jwks_signing_key_info", labelText({ kid, alg, backend: signer.backend }), 1);
    }
    out.family("jwks_active_key_age_seconds", "gauge", "Seconds since the signing key started signing.");
    if (view.active !== null) out.sample("jwks_active_key_age_seconds", "", now - view.active.activatesAt);
    out.family("jwks_next_key_activation_seconds", "gauge", "Seconds until the published next key starts signing.");
    if (view.next !== null) out.sample("jwks_next_key_activation_seconds", "", view.next.activatesAt - now);
    out.family("jwks_keyset_last_change_age_seconds", "gauge", "Seconds since the published key set last changed.")
      .sample("jwks_keyset_last_change_age_seconds", "", now - view.changedAt);
  }

  #renderQueues(out: Exposition): void {
    const { hasher, loginLog, rateLimiter } = this.#sources;
    if (hasher !== undefined) {
      out.family("jwks_hash_queue_depth", "gauge", "Password hashes waiting for a hashing slot.")
        .sample("jwks_hash_queue_depth", "", hasher.depth)
        .family("jwks_hash_in_progress", "gauge", "Password hashes being computed now.")
        .sample("jwks_hash_in_progress", "", hasher.running)
        .family("jwks_hash_concurrency", "gauge", "Password hashes computed at once at most.")
        .sample("jwks_hash_concurrency", "", hasher.concurrency)
        .family("jwks_hash_rejected_total", "counter", "Logins refused (503) because the hashing queue was full.")
        .sample("jwks_hash_rejected_total", "", hasher.rejected);
    }
    if (loginLog !== undefined) {
      out.family("jwks_auth_log_pending", "gauge", "Successful logins waiting to be written to auth_logs.")
        .sample("jwks_auth_log_pending", "", loginLog.pending)
        .family("jwks_auth_log_written_total", "counter", "Rows written to auth_logs.")
        .sample("jwks_auth_log_written_total", "", loginLog.written)
        .family("jwks_auth_log_write_failures_total", "counter", "Failed writes to auth_logs (retried).")
        .sample("jwks_auth_log_write_failures_total", "", loginLog.failures)
        .family("jwks_auth_log_dropped_total", "counter", "auth_logs rows dropped because the queue was full.")
        .sample("jwks_auth_log_dropped_total", "", loginLog.dropped);
    }
    const tracked = rateLimiter != null && "size" in rateLimiter ? rateLimiter.size : undefined;
    if (typeof tracked === "number") {
      out.family("jwks_rate_limiter_keys", "gauge", "Client keys the in-memory rate limiter tracks.")
        .sample("jwks_rate_limiter_keys", "", tracked);
    }
  }

  #renderProcess(out: Exposition): void {
    out.family("process_start_time_seconds", "gauge", "Start time of the process, in unix seconds.")
      .sample("process_start_time_seconds", "", this.#startTime);
    if (this.#memory !== null) {
      const memory = this.#memory();
      out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
        .sample("process_resident_memory_bytes", "", memory.rss)
        .family("deno_heap_used_bytes", "gauge", "V8 heap in use, in bytes.")
        .sample("deno_heap_used_bytes", "", memory.heapUsed)
        .family("deno_heap_total_bytes", "gauge", "V8 heap reserved, in bytes.")
        .sample("deno_heap_total_bytes", "", memory.heapTotal);
    }
  }
}

/** The `GET /metrics` route over `metrics`, to merge into `HttpDeps.routes`. */
export function metricsRoutes(metrics: Metrics): RouteTable {
  const handler: Handler = (ctx) =>
    new Response(metrics.render(), {
      headers: {
        "content-type": METRICS_CONTENT_TYPE,
        "cache-control": "no-store",
        "x-request-id": ctx.requestId,
      },
    });
  return new Map([["/metrics", { name: "/metrics", methods: { GET: handler } }]]);
}
