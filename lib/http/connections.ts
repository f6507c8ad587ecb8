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
 * The open connections. Those waiting for a first request and those closing are kept in the
 * order they got there, so the oldest comes first and a sweep stops at the first one still in
 * time; connections that have had a request are one map, busy or idle by their count of
 * requests in flight, so a keep-alive request costs two counter updates and no map move.
 */
export class ConnectionTable<T> {
  readonly limits: ConnectionLimits;
  readonly counts: ConnectionCounts = { shed: 0, evicted: 0, timedOut: 0 };
  #entries = new Map<T, Entry>();
  #waiting = new Map<T, Entry>();
  #serving = new Map<T, Entry>();
  #closing = new Map<T, Entry>();

  constructor(limits: ConnectionLimits) {
    this.limits = limits;
  }

  /** Connections open now, closing ones included (each holds a descriptor). */
  get size(): number {
    return this.#entries.size;
  }

  /** How many connections are in `phase` (busy and idle are counted, for stats). */
  count(phase: Phase): number {
    if (phase === "waiting") return this.#waiting.size;
    if (phase === "closing") return this.#closing.size;
    let n = 0;
    for (const entry of this.#serving.values()) if ((entry.inFlight > 0) === (phase === "busy")) n++;
    return n;
  }

  /** The phase of `handle`, or null once it is released. */
  phaseOf(handle: T): Phase | null {
    const entry = this.#entries.get(handle);
    if (entry === undefined) return null;
    return entry.phase === "busy" && entry.inFlight === 0 ? "idle" : entry.phase;
  }

  #mapOf(phase: Phase): Map<T, Entry> {
    return phase === "waiting" ? this.#waiting : phase === "closing" ? this.#closing : this.#serving;
  }

  #move(handle: T, entry: Entry, phase: Phase, now: number): void {
    this.#mapOf(entry.phase).delete(handle);
    entry.phase = phase;
    entry.since = now;
    this.#mapOf(phase).set(handle, entry);
  }

  /**
   * A connection arrived at `now`. Below the cap it is admitted. At the cap, the oldest
   * connection that has not sent a request yet makes room, else the longest idle one; when
   * every connection serves a request, or too many are already closing, the new one is shed.
   */
  admit(handle: T, now: number): Admission<T> {
    let evicted: T | null = null;
    if (this.size - this.#closing.size >= this.limits.maxConnections) {
      // Closing connections still hold descriptors: a flood must not pile them up without bound.
      const closingRoom = Math.max(16, this.limits.maxConnections >> 3);
      evicted = this.#closing.size < closingRoom ? this.#oldestEvictable() : null;
      if (evicted === null) {
        this.counts.shed++;
        return { admitted: false, evicted: null };
      }
      this.counts.evicted++;
      this.close(evicted, now);
    }
    const entry: Entry = { phase: "waiting", since: now, inFlight: 0 };
    this.#entries.set(handle, entry);
    this.#waiting.set(handle, entry);
    return { admitted: true, evicted };
  }

  /** The oldest waiting connection, else the longest idle one (a scan: only at the cap). */
  #oldestEvictable(): T | null {
    const first = this.#waiting.keys().next();
    if (!first.done) return first.value;
    let oldest: [T, Entry] | null = null;
    for (const pair of this.#serving) {
      if (pair[1].inFlight === 0 && (oldest === null || pair[1].since < oldest[1].since)) oldest = pair;
    }
    return oldest?.[0] ?? null;
  }

  /** A request arrived on `handle`. */
  started(handle: T, now: number): void {
    const entry = this.#entries.get(handle);
    if (entry === undefined) return;
    entry.inFlight++;
    if (entry.phase === "waiting") this.#move(handle, entry, "busy", now);
  }

  /** A request on `handle` was answered. */
  finished(handle: T, now: number): void {
    const entry = this.#entries.get(handle);
    if (entry === undefined || entry.inFlight === 0) return;
    if (--entry.inFlight === 0) entry.since = now;
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
    this.#mapOf(entry.phase).delete(handle);
  }

  /**
   * The connections due at `now`: `close` are those that outlived the header timeout (no
   * request yet) or the idle timeout (moved to closing here); `cut` are closing ones whose grace
   * is over, to be aborted.
   */
  due(now: number): { close: T[]; cut: T[] } {
    const close: T[] = [];
    for (const [handle, entry] of this.#waiting) {
      if (now - entry.since < this.limits.headerTimeoutMs) break;
      close.push(handle);
    }
    for (const [handle, entry] of this.#serving) {
      if (entry.inFlight === 0 && now - entry.since >= this.limits.idleTimeoutMs) close.push(handle);
    }
    for (const handle of close) this.close(handle, now);
    this.counts.timedOut += close.length;
    const cut: T[] = [];
    for (const [handle, entry] of this.#closing) {
      if (now - entry.since < CLOSING_GRACE_MS) break;
      cut.push(handle);
    }
    return { close, cut };
  }

  /**
   * Up to `count` connections to close at once to free descriptors (the process ran out): the
   * oldest waiting ones first, then idle ones. Moved to closing here.
   */
  shed(count: number, now: number): T[] {
    const chosen: T[] = [];
    for (const handle of this.#waiting.keys()) {
      if (chosen.length >= count) break;
      chosen.push(handle);
    }
    for (const [handle, entry] of this.#serving) {
      if (chosen.length >= count) break;
      if (entry.inFlight === 0) chosen.push(handle);
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
