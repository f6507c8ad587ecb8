/**
 * The gauges of `/metrics`, read at scrape time from the running parts: the key set, the
 * hashing queue, the write-behind auth log, the rate limiter and the process. Nothing here is
 * on the request path.
 * @module
 */
import type { KeyView } from "../core/key_ring.ts";
import { type Exposition, labelText } from "./exposition.ts";

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
  /** The signing backend chosen at start. */
  readonly signing?: { readonly name: string; readonly library: string };
  /** The rate limiter; its `size` (keys tracked) is reported when it has one (in memory). */
  readonly rateLimiter?: object | null;
}

/** Process memory, as `Deno.memoryUsage()` reports it. */
export interface MemoryUsage {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
}

/** The key-set gauges, read from `sources` now. */
export function renderKeyGauges(out: Exposition, sources: MetricSources): void {
  const keys = sources.keys;
  if (keys === undefined) return;
  const view = keys.view();
  const now = keys.now();
  out.family("jwks_published_keys", "gauge", "Keys published in the JWKS, by algorithm.");
  const byAlg = new Map<string, number>();
  for (const key of view.jwks.keys) byAlg.set(key.alg, (byAlg.get(key.alg) ?? 0) + 1);
  for (const [alg, count] of byAlg) out.sample("jwks_published_keys", labelText({ alg }), count);
  const signing = sources.signing;
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

/** The queue families: the source and field each reads, its name and help (`_total`: a counter). */
export const QUEUE_FAMILIES: readonly (readonly ["hasher" | "loginLog", string, string, string])[] = [
  ["hasher", "depth", "jwks_hash_queue_depth", "Password hashes waiting for a hashing slot."],
  ["hasher", "running", "jwks_hash_in_progress", "Password hashes being computed now."],
  ["hasher", "concurrency", "jwks_hash_concurrency", "Password hashes computed at once at most."],
  ["hasher", "rejected", "jwks_hash_rejected_total", "Logins refused (503) because the hashing queue was full."],
  ["loginLog", "pending", "jwks_auth_log_pending", "Successful logins waiting to be written to auth_logs."],
  ["loginLog", "written", "jwks_auth_log_written_total", "Rows written to auth_logs."],
  ["loginLog", "failures", "jwks_auth_log_write_failures_total", "Failed writes to auth_logs (retried)."],
  ["loginLog", "dropped", "jwks_auth_log_dropped_total", "auth_logs rows dropped because the queue was full."],
];

/** The hashing-queue, auth-log and rate-limiter gauges, read from `sources` now. */
export function renderQueueGauges(out: Exposition, sources: MetricSources): void {
  for (const [source, field, name, help] of QUEUE_FAMILIES) {
    const values: Record<string, number> | undefined = sources[source];
    const type = name.endsWith("_total") ? "counter" : "gauge";
    if (values !== undefined) out.family(name, type, help).sample(name, "", values[field] ?? 0);
  }
  const rateLimiter = sources.rateLimiter;
  const tracked = rateLimiter != null && "size" in rateLimiter ? rateLimiter.size : undefined;
  if (typeof tracked === "number") {
    out.family("jwks_rate_limiter_keys", "gauge", "Client keys the in-memory rate limiter tracks.")
      .sample("jwks_rate_limiter_keys", "", tracked);
  }
}

/** Process start time and memory. */
export function renderProcessGauges(out: Exposition, startTime: number, memory: (() => MemoryUsage) | null): void {
  out.family("process_start_time_seconds", "gauge", "Start time of the process, in unix seconds.")
    .sample("process_start_time_seconds", "", startTime);
  if (memory !== null) {
    const usage = memory();
    out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
      .sample("process_resident_memory_bytes", "", usage.rss)
      .family("deno_heap_used_bytes", "gauge", "V8 heap in use, in bytes.")
      .sample("deno_heap_used_bytes", "", usage.heapUsed)
      .family("deno_heap_total_bytes", "gauge", "V8 heap reserved, in bytes.")
      .sample("deno_heap_total_bytes", "", usage.heapTotal);
  }
}
