/**
 * Per-username brute-force backoff: a few free failures, then an exponentially growing wait,
 * bounded memory. Time is a parameter; nothing here hashes or reads storage.
 * @module
 */

/** Per-username backoff: `freeFailures` free, then `baseMs` doubling up to `maxMs`. */
export interface LoginBackoffPolicy {
  readonly freeFailures: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Brute-force backoff policy. */
export interface BackoffPolicy extends LoginBackoffPolicy {
  /** Usernames tracked at most; the least recently failed are forgotten first. */
  readonly maxEntries: number;
}

/** The default backoff: 5 free failures, then 1 s doubling up to 15 min, 10,000 usernames. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  freeFailures: 5,
  baseMs: 1000,
  maxMs: 15 * 60_000,
  maxEntries: 10_000,
});

interface Failures {
  count: number;
  lockedUntil: number;
}

/**
 * Per-username exponential backoff: after `freeFailures` failed logins, each further failure
 * locks the username for `baseMs · 2^(n-1)` (capped at `maxMs`); a success resets it. Unknown
 * usernames are tracked the same way, so the lockout reveals nothing about who exists.
 */
export class LoginBackoff {
  readonly policy: BackoffPolicy;
  #entries = new Map<string, Failures>();

  constructor(policy: BackoffPolicy = DEFAULT_BACKOFF) {
    this.policy = policy;
  }

  /** Usernames currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Milliseconds `username` must wait at `now`, or 0 when it may try. */
  waitMs(username: string, now: number): number {
    const entry = this.#entries.get(username);
    return entry === undefined ? 0 : Math.max(0, entry.lockedUntil - now);
  }

  /** Records a failed attempt at `now`. */
  fail(username: string, now: number): void {
    const entry = this.#entries.get(username) ?? { count: 0, lockedUntil: 0 };
    this.#entries.delete(username);
    entry.count++;
    const over = entry.count - this.policy.freeFailures;
    if (over > 0) {
      entry.lockedUntil = now + Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(over - 1, 40));
    }
    this.#entries.set(username, entry);
    while (this.#entries.size > this.policy.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Forgets the failures of `username` after a successful login. */
  succeed(username: string): void {
    this.#entries.delete(username);
  }
}
