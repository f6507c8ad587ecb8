/**
 * The bookkeeping of open client connections, without a socket: which ones wait for their first
 * request, which serve one, which sit idle between keep-alive requests and which are closing;
 * who may come in past the cap (a connection that has sent nothing yet, or an idle one, makes
 * room first, as nginx reuses idle keep-alive connections); and which have outlived the header,
 * idle or closing timeouts. Time is a parameter. Also the listener's types; `listener.ts` acts
 * on the table's answers.
 * @module
 */
import type { ConnInfo } from "./router.ts";

/** The connection limits a server enforces. */
export interface ConnectionLimits {
  /** Connections open at most; past it, the oldest waiting or idle one makes room, else the new one is shed. */
  readonly maxConnections: number;
  /** How long a new connection may take to send its first request head, ms. */
  readonly headerTimeoutMs: number;
  /** How long a keep-alive connection may sit between requests, ms. */
  readonly idleTimeoutMs: number;
  /** How long a request body may take to arrive in full, ms (enforced by the body reader). */
  readonly bodyTimeoutMs: number;
}

/** Answers one request. */
export type ServeHandler = (request: Request, info: ConnInfo) => Response | Promise<Response>;

/** Something the listener wants an operator to know; logged by the server (rate-limited here). */
export type ListenerEvent =
  | { readonly event: "descriptors_exhausted"; readonly open: number; readonly closed: number }
  | { readonly event: "connections_shed"; readonly open: number; readonly shed: number; readonly evicted: number }
  | { readonly event: "listener_restarted"; readonly reason: string }
  | { readonly event: "connection_limits_unavailable"; readonly reason: string };

/** Options of `listen()` in `listener.ts`. */
export interface ListenOptions {
  readonly hostname: string;
  readonly port: number;
  readonly limits: ConnectionLimits;
  onListen(addr: { hostname: string; port: number }): void;
  /** Told about shedding, descriptor exhaustion and restarts, at most once per 10 s each. */
  onEvent?: (event: ListenerEvent) => void;
}

/** Connection figures now. */
export interface ConnectionStats extends ConnectionCounts {
  readonly open: number;
  readonly waiting: number;
  readonly busy: number;
  readonly idle: number;
  readonly closing: number;
}

/** A listening server. */
export interface GuardedListener {
  /** Stops accepting, lets requests in flight finish, closes every connection. */
  shutdown(): Promise<void>;
  /** Null when the runtime offers no per-connection serving (plain `Deno.serve`). */
  stats(): ConnectionStats | null;
}

/** Where a connection is in its life. */
export type Phase = "waiting" | "busy" | "idle" | "closing";

/** How a {@linkcode ConnectionTable} answered an arriving connection. */
export interface Admission<T> {
  /** False: shed the new connection (every slot serves a request). */
  readonly admitted: boolean;
  /** An older connection to close to make room, or null. */
  readonly evicted: T | null;
}

/** Counts since start, for metrics and logs. */
export interface ConnectionCounts {
  /** New connections refused because every slot was serving a request. */
  shed: number;
  /** Waiting or idle connections closed to make room for a new one, or to free descriptors. */
  evicted: number;
  /** Connections closed because they outlived the header or idle timeout. */
  timedOut: number;
}

interface Entry {
  phase: Phase;
  /** When the connection entered its phase. */
  since: number;
  inFlight: number;
}

/** The connection cap when none is configured, at most. */
export const DEFAULT_MAX_CONNECTIONS = 4096;
/** Descriptors kept for everything but client connections: the database, workers, outbound connections. */
export const DESCRIPTOR_RESERVE = 128;

/**
 * The default connection cap for a process that may open `descriptorLimit` files (null when
 * unknown): the limit less {@linkcode DESCRIPTOR_RESERVE}, at most
 * {@linkcode DEFAULT_MAX_CONNECTIONS}, at least 16.
 */
export function autoMaxConnections(descriptorLimit: number | null): number {
  if (descriptorLimit === null || !Number.isFinite(descriptorLimit)) return DEFAULT_MAX_CONNECTIONS;
  return Math.max(16, Math.min(DEFAULT_MAX_CONNECTIONS, Math.floor(descriptorLimit) - DESCRIPTOR_RESERVE));
}

/** How long a closing connection may finish its last answer before it is cut, ms. */
export const CLOSING_GRACE_MS = 1000;

/**
 * The open connections, each in one map per phase; each map keeps its entries in the order
 * they entered the phase, so the oldest comes first and a timeout sweep stops at the first
 * connection that is still in time.
 */
export class ConnectionTable<T> {
  readonly limits: ConnectionLimits;
  readonly counts: ConnectionCounts = { shed: 0, evicted: 0, timedOut: 0 };
  #entries = new Map<T, Entry>();
  #phases: Record<Phase, Map<T, Entry>> = {
    waiting: new Map(),
    busy: new Map(),
    idle: new Map(),
    closing: new Map(),
  };

  constructor(limits: ConnectionLimits) {
    this.limits = limits;
  }

  /** Connections open now, closing ones included (each holds a descriptor). */
  get size(): number {
    return this.#entries.size;
  }

  /** How many connections are in `phase`. */
  count(phase: Phase): number {
    return this.#phases[phase].size;
  }

  /** The phase of `handle`, or null once it is released. */
  phaseOf(handle: T): Phase | null {
    return this.#entries.get(handle)?.phase ?? null;
  }

  #move(handle: T, entry: Entry, phase: Phase, now: number): void {
    this.#phases[entry.phase].delete(handle);
    entry.phase = phase;
    entry.since = now;
    this.#phases[phase].set(handle, entry);
  }

  /**
   * A connection arrived at `now`. Below the cap it is admitted. At the cap, the oldest
   * connection that has not sent a request yet makes room, else the oldest idle one; when every
   * connection serves a request, or too many are already closing, the new one is shed.
   */
  admit(handle: T, now: number): Admission<T> {
    let evicted: T | null = null;
    if (this.size - this.count("closing") >= this.limits.maxConnections) {
      // Closing connections still hold descriptors: a flood must not pile them up without bound.
      const closingRoom = Math.max(16, this.limits.maxConnections >> 3);
      evicted = this.count("closing") < closingRoom ? this.#oldestEvictable() : null;
      if (evicted === null) {
        this.counts.shed++;
        return { admitted: false, evicted: null };
      }
      this.counts.evicted++;
      this.close(evicted, now);
    }
    const entry: Entry = { phase: "waiting", since: now, inFlight: 0 };
    this.#entries.set(handle, entry);
    this.#phases.waiting.set(handle, entry);
    return { admitted: true, evicted };
  }

  #oldestEvictable(): T | null {
    for (const phase of ["waiting", "idle"] as const) {
      const first = this.#phases[phase].keys().next();
      if (!first.done) return first.value;
    }
    return null;
  }

  /** A request arrived on `handle`. */
  started(handle: T, now: number): void {
    const entry = this.#entries.get(handle);
    if (entry === undefined) return;
    entry.inFlight++;
    if (entry.phase === "waiting" || entry.phase === "idle") this.#move(handle, entry, "busy", now);
  }

  /** A request on `handle` was answered. */
  finished(handle: T, now: number): void {
    const entry = this.#entries.get(handle);
    if (entry === undefined) return;
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    if (entry.inFlight === 0 && entry.phase === "busy") this.#move(handle, entry, "idle", now);
  }

  /** `handle` is being closed (its last answer may still be on its way). */
  close(handle: T, now: number): void {
    const entry = this.#entries.get(handle);
    if (entry !== undefined && entry.phase !== "closing") this.#move(handle, entry, "closing", now);
  }

  /** `handle` is gone: its descriptor is free. */
  release(handle: T): void {
    const entry = this.#entries.get(handle);
    if (entry === undefined) return;
    this.#entries.delete(handle);
    this.#phases[entry.phase].delete(handle);
  }

  /**
   * The connections due at `now`: `close` are those that outlived the header timeout (no
   * request yet) or the idle timeout (moved to closing here); `cut` are closing ones whose grace
   * is over, to be aborted.
   */
  due(now: number): { close: T[]; cut: T[] } {
    const close: T[] = [];
    for (
      const [phase, timeout] of [["waiting", this.limits.headerTimeoutMs], ["idle", this.limits.idleTimeoutMs]] as const
    ) {
      for (const [handle, entry] of this.#phases[phase]) {
        if (now - entry.since < timeout) break;
        close.push(handle);
      }
    }
    for (const handle of close) this.close(handle, now);
    this.counts.timedOut += close.length;
    const cut: T[] = [];
    for (const [handle, entry] of this.#phases.closing) {
      if (now - entry.since < CLOSING_GRACE_MS) break;
      cut.push(handle);
    }
    return { close, cut };
  }

  /**
   * Up to `count` connections to close at once to free descriptors (the process ran out): the
   * oldest waiting ones first, then the oldest idle ones. Moved to closing here.
   */
  shed(count: number, now: number): T[] {
    const chosen: T[] = [];
    for (const phase of ["waiting", "idle"] as const) {
      for (const handle of this.#phases[phase].keys()) {
        if (chosen.length >= count) break;
        chosen.push(handle);
      }
    }
    for (const handle of chosen) this.close(handle, now);
    this.counts.evicted += chosen.length;
    return chosen;
  }

  /** Every open connection (for a full stop). */
  all(): T[] {
    return [...this.#entries.keys()];
  }
}
