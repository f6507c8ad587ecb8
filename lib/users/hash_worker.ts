/**
 * Password hashing below the request thread's priority: a {@linkcode Hasher} that runs Argon2id
 * in one worker thread whose OS priority is lowered (nice 10 by default). The native threads
 * that compute the hashes inherit it, so a flood of logins only gets the CPU that serving
 * requests leaves, and `/jwks` stays fast on a small box. Until the worker is ready (it can
 * start lazily, with the first login), and for good if it cannot start, calls go to an
 * in-thread fallback hasher. The concurrency cap and the backlog bound stay with `HashQueue`.
 * @module
 */
import type { Argon2Options } from "./argon2.ts";
import type { Hasher } from "./hash_queue.ts";

/** First message to the worker. */
export interface WorkerInit {
  readonly init: { readonly nice: number; readonly argon2: Argon2Options };
}

/** A request to the worker. */
export type HashRequest =
  | { readonly id: number; readonly op: "hash"; readonly password: string }
  | { readonly id: number; readonly op: "verify"; readonly hash: string; readonly password: string };

/** The worker's answer: a value, or the name of the error (never its message). */
export interface HashReply {
  readonly id: number;
  readonly value?: string | boolean;
  readonly error?: string;
}

/** What became of the worker. */
export type WorkerState =
  | { readonly state: "ready"; readonly niced: boolean }
  | { readonly state: "failed"; readonly reason: string };

/** Options of {@linkcode WorkerHasher}. */
export interface WorkerHasherOptions {
  /** Hashes until the worker is ready, and for good if it cannot start. */
  fallback: Hasher;
  /** Niceness of the hashing threads (0 to 19; higher yields more). Default 10. */
  nice?: number;
  /** Argon2id cost parameters, as for `argon2Hasher()`. */
  argon2?: Argon2Options;
  /**
   * Start the worker only when needed: with the first call after {@linkcode WorkerHasher.arm}.
   * A worker costs ~16 MB of resident memory, which a server that never sees a login need not
   * pay. Default false (start now).
   */
  lazy?: boolean;
  /** Told once whether the worker started and runs at the lower priority. */
  onState?: (state: WorkerState) => void;
  /** The worker module; only tests change it. */
  module?: URL;
}

interface Pending {
  readonly request: HashRequest;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

/** Argon2id in a lower-priority worker thread, with an in-thread fallback. */
export class WorkerHasher implements Hasher {
  /** Resolves with the worker's fate once it started (or could not); never rejects. */
  readonly started: Promise<WorkerState>;
  #options: WorkerHasherOptions;
  #fallback: Hasher;
  #worker: Worker | null = null;
  #phase: "idle" | "armed" | "starting" | "ready" | "closed" = "idle";
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #settle: (state: WorkerState) => void = () => {};

  constructor(options: WorkerHasherOptions) {
    this.#options = options;
    this.#fallback = options.fallback;
    this.started = new Promise((resolve) => {
      this.#settle = (state) => {
        this.#settle = () => {};
        resolve(state);
      };
    });
    this.started.then((state) => options.onState?.(state));
    if (!options.lazy) this.#start();
  }

  /** With `lazy`, lets the next call start the worker; calls before this (start-up work) do not. */
  arm(): void {
    if (this.#phase === "idle") this.#phase = "armed";
  }

  hash(password: string): Promise<string> {
    if (this.#phase !== "ready") return this.#beforeReady().hash(password);
    return this.#send({ id: this.#nextId++, op: "hash", password }) as Promise<string>;
  }

  verify(hash: string, password: string): Promise<boolean> {
    if (this.#phase !== "ready") return this.#beforeReady().verify(hash, password);
    return this.#send({ id: this.#nextId++, op: "verify", hash, password }) as Promise<boolean>;
  }

  /** Stops the worker; work in flight and later calls go to the fallback. */
  close(): void {
    this.#phase = "closed";
    this.#settle({ state: "failed", reason: "closed" });
    this.#abandon();
  }

  #beforeReady(): Hasher {
    if (this.#phase === "armed") this.#start();
    return this.#fallback;
  }

  #start(): void {
    this.#phase = "starting";
    const nice = Math.min(19, Math.max(0, Math.floor(this.#options.nice ?? 10)));
    const worker = new Worker(this.#options.module ?? new URL("./argon2_worker.ts", import.meta.url), {
      type: "module",
      name: "argon2",
    });
    this.#worker = worker;
    worker.onmessage = ({ data }: MessageEvent<HashReply | { ready: { niced: boolean } }>) => {
      if ("ready" in data) {
        this.#phase = "ready";
        this.#settle({ state: "ready", niced: data.ready.niced });
        return;
      }
      const pending = this.#pending.get(data.id);
      if (pending === undefined) return;
      this.#pending.delete(data.id);
      if (data.error !== undefined) pending.reject(new Error(`Password hashing failed (${data.error})`));
      else pending.resolve(data.value!);
    };
    worker.onerror = (event) => {
      // Handled here, so a worker that cannot start never takes the server down.
      event.preventDefault();
      this.#phase = "closed";
      this.#settle({ state: "failed", reason: event.message });
      this.#abandon();
    };
    worker.postMessage({ init: { nice, argon2: this.#options.argon2 ?? {} } } satisfies WorkerInit);
  }

  #send(request: HashRequest): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { request, resolve, reject });
      this.#worker!.postMessage(request);
    });
  }

  /** Ends the worker and hands whatever it had not answered to the fallback. */
  #abandon(): void {
    this.#worker?.terminate();
    this.#worker = null;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { request, resolve, reject } of pending) {
      const work = request.op === "hash"
        ? this.#fallback.hash(request.password)
        : this.#fallback.verify(request.hash, request.password);
      work.then(resolve, reject);
    }
  }
}
