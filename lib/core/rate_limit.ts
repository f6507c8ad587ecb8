/**
 * Sliding-window rate limiting: a request is admitted when fewer than `limit` requests were
 * admitted for the same key in the `windowMs` before it (a sliding log, exact at the edges:
 * 10 at t, the 11th at t+999 ms is refused, one more at t+1000 ms is admitted). The decision is
 * a pure function of (log, now, policy); the in-memory limiter keeps memory bounded by
 * forgetting idle keys first, then the least recently seen ones.
 * @module
 */
import type { RateLimit } from "./units.ts";

/** The outcome of one rate-limit check. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  /** Requests still admissible in the current window after this one. */
  readonly remaining: number;
  /** Milliseconds until one more request would be admitted (0 when one would be now). */
  readonly resetMs: number;
}

/** Anything that decides whether `key` may make a request at `now` (unix ms). */
export interface RateLimiter {
  check(key: string, now: number): RateDecision | Promise<RateDecision>;
  /** Releases connections, if any. */
  close?(): Promise<void>;
}

/**
 * Decides for a sliding log `times` (admitted request times, oldest first; mutated: expired
 * entries are dropped and `now` is appended when admitted).
 */
export function decide(times: number[], now: number, policy: RateLimit): RateDecision {
  const since = now - policy.windowMs;
  let drop = 0;
  while (drop < times.length && times[drop]! <= since) drop++;
  if (drop > 0) times.splice(0, drop);
  if (times.length < policy.limit) {
    times.push(now);
    const remaining = policy.limit - times.length;
    return {
      allowed: true,
      limit: policy.limit,
      remaining,
      resetMs: remaining > 0 ? 0 : times[0]! + policy.windowMs - now,
    };
  }
  return { allowed: false, limit: policy.limit, remaining: 0, resetMs: times[0]! + policy.windowMs - now };
}

/** Options of {@linkcode MemoryRateLimiter}. */
export interface MemoryRateLimiterOptions {
  /** Keys tracked at most. Default 50,000. */
  maxKeys?: number;
}

/** A {@linkcode RateLimiter} in process memory, bounded to `maxKeys` keys. */
export class MemoryRateLimiter implements RateLimiter {
  readonly policy: RateLimit;
  readonly maxKeys: number;
  /** Least recently used first: every check moves its key to the end. */
  #logs = new Map<string, number[]>();

  constructor(policy: RateLimit, options: MemoryRateLimiterOptions = {}) {
    this.policy = policy;
    this.maxKeys = Math.max(1, options.maxKeys ?? 50_000);
  }

  /** Keys tracked now. */
  get size(): number {
    return this.#logs.size;
  }

  check(key: string, now: number): RateDecision {
    const times = this.#logs.get(key) ?? [];
    this.#logs.delete(key);
    const decision = decide(times, now, this.policy);
    this.#logs.set(key, times);
    if (this.#logs.size > this.maxKeys) this.#evict(now);
    return decision;
  }

  #evict(now: number): void {
    const since = now - this.policy.windowMs;
    // Idle keys sit at the front; forgetting them changes no decision.
    for (const [key, times] of this.#logs) {
      if (times.length > 0 && times[times.length - 1]! > since) break;
      this.#logs.delete(key);
    }
    while (this.#logs.size > this.maxKeys) this.#logs.delete(this.#logs.keys().next().value!);
  }
}
