/**
 * Brute-force backoff per username and client IP: a few free failures, then an exponentially
 * growing wait, bounded memory. Keyed by the pair, so failures sent from one IP never lock the
 * right password out when it comes from another; a full table forgets entries that never
 * locked, then lapsed locks, and never a lock that is still running. Time is a parameter;
 * nothing here hashes or reads storage.
 * @module
 */

/** Backoff per username and IP: `freeFailures` free, then `baseMs` doubling up to `maxMs`. */
export interface LoginBackoffPolicy {
  readonly freeFailures: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Brute-force backoff policy. */
export interface BackoffPolicy extends LoginBackoffPolicy {
  /** Username and IP pairs tracked at most. */
  readonly maxEntries: number;
}

/** The default backoff: 5 free failures, then 1 s doubling up to 15 min, 10,000 pairs. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  freeFailures: 5,
  baseMs: 1000,
  maxMs: 15 * 60_000,
  maxEntries: 10_000,
});

/** Whose attempts are counted together: a (canonical) username from one client IP. */
export interface AttemptKey {
  readonly username: string;
  readonly ip: string;
}

interface Failures {
  count: number;
  lockedUntil: number;
}

const keyOf = ({ username, ip }: AttemptKey) => `${ip}\u0000${username}`;

/**
 * Exponential backoff per (username, IP): after `freeFailures` failed logins, each further
 * failure locks the pair for `baseMs · 2^(n-1)` (capped at `maxMs`); a success resets it.
 * Unknown usernames are tracked the same way, so the lockout reveals nothing about who exists.
 */
export class LoginBackoff {
  readonly policy: BackoffPolicy;
  /** Failures that found the table full of running locks and were not tracked, for metrics. */
  untracked = 0;
  /** In the order of their last failure, oldest first. */
  #entries = new Map<string, Failures>();

  constructor(policy: BackoffPolicy = DEFAULT_BACKOFF) {
    this.policy = policy;
  }

  /** Pairs currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Milliseconds `key` must wait at `now`, or 0 when it may try. */
  waitMs(key: AttemptKey, now: number): number {
    const entry = this.#entries.get(keyOf(key));
    return entry === undefined ? 0 : Math.max(0, entry.lockedUntil - now);
  }

  /** Records a failed attempt of `key` at `now`. */
  fail(key: AttemptKey, now: number): void {
    const name = keyOf(key);
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      if (this.#entries.size >= this.policy.maxEntries && !this.#makeRoom(now)) {
        this.untracked++;
        return;
      }
      entry = { count: 0, lockedUntil: 0 };
    }
    this.#entries.delete(name);
    entry.count++;
    const over = entry.count - this.policy.freeFailures;
    if (over > 0) {
      entry.lockedUntil = now + Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(over - 1, 40));
    }
    this.#entries.set(name, entry);
  }

  /**
   * Forgets one entry to make room: the least recently failed one that never locked, else the
   * least recently failed lock that has lapsed. False when every entry is a running lock.
   */
  #makeRoom(now: number): boolean {
    let lapsed: string | null = null;
    for (const [name, entry] of this.#entries) {
      if (entry.count <= this.policy.freeFailures) {
        this.#entries.delete(name);
        return true;
      }
      if (lapsed === null && entry.lockedUntil <= now) lapsed = name;
    }
    if (lapsed === null) return false;
    this.#entries.delete(lapsed);
    return true;
  }

  /** Forgets the failures of `key` after a successful login. */
  succeed(key: AttemptKey): void {
    this.#entries.delete(keyOf(key));
  }
}
