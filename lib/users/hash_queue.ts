/**
 * Password hashing with a concurrency cap and a bounded backlog, so a login flood cannot starve
 * the CPU that serves the JWKS. The {@linkcode Hasher} port is what `argon2.ts` and
 * `hash_worker.ts` implement.
 * @module
 */
import { AppError } from "../core/errors.ts";

/** Hashes and verifies passwords. Implementations must not block the calling thread. */
export interface Hasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

/** Options of {@linkcode HashQueue}. */
export interface HashQueueOptions {
  /** Hashes computed at once. Default 1. */
  concurrency?: number;
  /** Requests allowed to wait for a slot; beyond that, `overloaded`. Default 64. */
  maxQueue?: number;
}

/**
 * Caps concurrent hashing and bounds the backlog, so a login flood cannot starve the CPU that
 * serves the JWKS: work beyond `concurrency + maxQueue` fails fast with `overloaded` (503 with
 * `Retry-After`).
 */
export class HashQueue implements Hasher {
  readonly concurrency: number;
  readonly maxQueue: number;
  #inner: Hasher;
  #running = 0;
  #waiting: (() => void)[] = [];
  /** Completed hash/verify operations, for metrics. */
  completed = 0;
  /** Operations refused because the queue was full, for metrics. */
  rejected = 0;

  constructor(inner: Hasher, options: HashQueueOptions = {}) {
    this.#inner = inner;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.maxQueue = Math.max(0, Math.floor(options.maxQueue ?? 64));
  }

  /** Operations waiting for a slot. */
  get depth(): number {
    return this.#waiting.length;
  }

  /** Operations running now. */
  get running(): number {
    return this.#running;
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueue) {
        this.rejected++;
        throw new AppError("overloaded", "Too many logins in progress; try again shortly", { retryAfter: 1 });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      this.completed++;
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter, so the running count never dips.
      if (next === undefined) this.#running--;
      else next();
    }
  }

  hash(password: string): Promise<string> {
    return this.#run(() => this.#inner.hash(password));
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.#run(() => this.#inner.verify(hash, password));
  }
}
