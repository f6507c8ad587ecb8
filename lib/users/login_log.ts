/**
 * Writes successful logins to `auth_logs` behind the token path: `record()` only queues, and
 * the queue is written in one transaction at the next microtask checkpoint, so concurrent
 * logins share a write and no login waits for the disk. A failed write is reported and counted,
 * and the batch is kept for the next attempt; the queue is bounded and counts what it drops.
 * While writes fail the log reports itself unhealthy, so the edge can refuse logins (503).
 * @module
 */
import type { LoginEvent, UserStore } from "../store/ports.ts";

/** Options of {@linkcode LoginLog}. */
export interface LoginLogOptions {
  /** Events kept at most while writes fail; the oldest are dropped first. Default 10,000. */
  maxQueue?: number;
  /** Told about each failed write. */
  onError?: (error: unknown, pending: number) => void;
}

/** The write-behind queue of `auth_logs` rows. */
export class LoginLog {
  #store: Pick<UserStore, "recordLogins">;
  #queue: LoginEvent[] = [];
  #maxQueue: number;
  #onError: (error: unknown, pending: number) => void;
  #scheduled = false;
  #writing: Promise<void> | null = null;
  #inFlight = 0;
  #healthy = true;
  /** Rows written. */
  written = 0;
  /** Failed write attempts. */
  failures = 0;
  /** Events dropped because the queue was full. */
  dropped = 0;

  constructor(store: Pick<UserStore, "recordLogins">, options: LoginLogOptions = {}) {
    this.#store = store;
    this.#maxQueue = Math.max(1, options.maxQueue ?? 10_000);
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * False from a failed write until the next successful one (the failed rows are kept and
   * retried by `flush()`): logins should then be refused, since they could not be recorded.
   */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Events not yet written (queued or being written). */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** Queues one login; never blocks and never throws. */
  record(event: LoginEvent): void {
    this.#queue.push(event);
    if (this.#queue.length > this.#maxQueue) {
      const excess = this.#queue.length - this.#maxQueue;
      this.#queue.splice(0, excess);
      this.dropped += excess;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      // A write in progress reschedules when it is done; a failed one waits for the next call.
      if (this.#writing === null) void this.flush();
    });
  }

  /** Writes everything queued so far. Resolves false when the write failed (events are kept). */
  async flush(): Promise<boolean> {
    while (this.#writing !== null) await this.#writing;
    if (this.#queue.length === 0) return true;
    const batch = this.#queue;
    this.#queue = [];
    this.#inFlight = batch.length;
    let ok = true;
    const write = (async () => {
      try {
        await this.#store.recordLogins(batch);
        this.#inFlight = 0;
        this.written += batch.length;
        this.#healthy = true;
        if (this.#queue.length > 0) this.#schedule();
      } catch (error) {
        ok = false;
        this.#inFlight = 0;
        this.#healthy = false;
        this.failures++;
        const merged = batch.concat(this.#queue);
        const excess = Math.max(0, merged.length - this.#maxQueue);
        this.dropped += excess;
        this.#queue = merged.slice(excess);
        this.#onError(error, this.#queue.length);
      }
    })();
    this.#writing = write;
    await write;
    this.#writing = null;
    return ok;
  }
}
