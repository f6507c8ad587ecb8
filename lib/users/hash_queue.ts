/**
 * Password hashing with a concurrency cap and a bounded backlog shared fairly between clients,
 * so a login flood cannot starve the CPU that serves the JWKS and a few flooding IPs cannot
 * starve everyone else's logins. The {@linkcode Hasher} port is what `argon2.ts` and
 * `hash_worker.ts` implement.
 * @module
 */
import { AppError } from "../core/errors.ts";

/** Who asks for a hash: the client IP of the request, or none (start-up work). */
export interface HashRequestOptions {
  readonly client?: string;
}

/**
 * Hashes and verifies passwords. Implementations must not block the calling thread; those that
 * share the hashing between clients read `options.client`.
 */
export interface Hasher {
  hash(password: string, options?: HashRequestOptions): Promise<string>;
  verify(hash: string, password: string, options?: HashRequestOptions): Promise<boolean>;
}

/** Options of {@linkcode HashQueue}. */
export interface HashQueueOptions {
  /** Hashes computed at once. Default 1. */
  concurrency?: number;
  /** Requests allowed to wait for a slot, all clients together; beyond that, `overloaded`. Default 64. */
  maxQueue?: number;
  /**
   * Requests one client may have waiting; beyond that its next one is `overloaded`. Default
   * `maxQueue`: a client alone may use the whole backlog, and others still get in, since a full
   * backlog makes room for a client with fewer waiting.
   */
  maxPerClient?: number;
}

interface Waiter {
  start(): void;
  refuse(error: AppError): void;
}

const overloaded = () =>
  new AppError("overloaded", "Too many logins in progress; try again shortly", { retryAfter: 1 });

/** One client's share: its waiting work, its work running, and when it last got a slot. */
interface Share {
  readonly queue: Waiter[];
  running: number;
  turn: number;
}

/**
 * Caps concurrent hashing and bounds the backlog. Waiting work is kept per client, and a free
 * slot goes to the client that got one least recently, so each client gets its share of the
 * hashing whatever the others send: one client may have at most `maxPerClient` requests
 * waiting, and when the whole backlog is full, a client with fewer waiting takes the place of
 * the newest request of the client with the most. Refused work fails fast with `overloaded`
 * (503 with `Retry-After`).
 */
export class HashQueue implements Hasher {
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly maxPerClient: number;
  #inner: Hasher;
  #running = 0;
  #depth = 0;
  #turns = 0;
  /** Clients with work waiting or running. */
  #shares = new Map<string, Share>();
  /** Completed hash/verify operations, for metrics. */
  completed = 0;
  /** Operations refused because the queue was full, for metrics. */
  rejected = 0;

  constructor(inner: Hasher, options: HashQueueOptions = {}) {
    this.#inner = inner;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.maxQueue = Math.max(0, Math.floor(options.maxQueue ?? 64));
    this.maxPerClient = Math.max(1, Math.floor(options.maxPerClient ?? this.maxQueue));
  }

  /** Operations waiting for a slot. */
  get depth(): number {
    return this.#depth;
  }

  /** Operations running now. */
  get running(): number {
    return this.#running;
  }

  /** Clients with work waiting or running. */
  get clients(): number {
    return this.#shares.size;
  }

  #refuse(): never {
    this.rejected++;
    throw overloaded();
  }

  #share(client: string): Share {
    let share = this.#shares.get(client);
    if (share === undefined) this.#shares.set(client, share = { queue: [], running: 0, turn: -1 });
    return share;
  }

  #release(client: string, share: Share): void {
    if (share.running === 0 && share.queue.length === 0) this.#shares.delete(client);
  }

  /** Queues a waiter for `client`, making room in the longest queue when the backlog is full. */
  async #wait(share: Share): Promise<void> {
    if (share.queue.length >= this.maxPerClient || this.maxQueue === 0) this.#refuse();
    if (this.#depth >= this.maxQueue) {
      let longest: Share | null = null;
      for (const other of this.#shares.values()) {
        if (longest === null || other.queue.length > longest.queue.length) longest = other;
      }
      // Room is made only for a client that would then have fewer waiting than the one it displaces.
      if (longest === null || longest.queue.length <= share.queue.length + 1) this.#refuse();
      this.#depth--;
      this.rejected++;
      longest.queue.pop()!.refuse(overloaded());
    }
    this.#depth++;
    await new Promise<void>((start, refuse) => share.queue.push({ start, refuse }));
  }

  /** The next waiter: of the clients with work waiting, the one that got a slot least recently. */
  #next(): Waiter | undefined {
    let chosen: Share | null = null;
    for (const share of this.#shares.values()) {
      if (share.queue.length > 0 && (chosen === null || share.turn < chosen.turn)) chosen = share;
    }
    if (chosen === null) return undefined;
    this.#depth--;
    return chosen.queue.shift();
  }

  async #run<T>(work: () => Promise<T>, client: string): Promise<T> {
    const share = this.#share(client);
    if (this.#running >= this.concurrency) {
      try {
        await this.#wait(share);
      } catch (error) {
        this.#release(client, share);
        throw error;
      }
    } else {
      this.#running++;
    }
    share.running++;
    share.turn = ++this.#turns;
    try {
      return await work();
    } finally {
      this.completed++;
      share.running--;
      this.#release(client, share);
      const next = this.#next();
      // Hand the slot straight to the next waiter, so the running count never dips.
      if (next === undefined) this.#running--;
      else next.start();
    }
  }

  hash(password: string, options: HashRequestOptions = {}): Promise<string> {
    return this.#run(() => this.#inner.hash(password), options.client ?? "");
  }

  verify(hash: string, password: string, options: HashRequestOptions = {}): Promise<boolean> {
    return this.#run(() => this.#inner.verify(hash, password), options.client ?? "");
  }
}
