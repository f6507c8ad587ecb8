/**
 * The TCP listener with connection limits that `Deno.serve` lacks (Deno 2.9 has no header, idle
 * or body timeout, and its accept loop ends for good at the descriptor limit): our own accept
 * loop (`Deno.listen`) hands each connection to Deno's HTTP engine on its own, through the
 * runtime's `serveHttpOnConnection`, so every connection can be counted, timed and closed. The
 * policy — who is shed, evicted or timed out — is `connections.ts`; this module applies it.
 * Running out of descriptors sheds waiting and idle connections and keeps accepting. Where the
 * runtime lacks the per-connection entry point, it serves with plain `Deno.serve` (no limits) and
 * brings that listener back whenever it stops.
 * @module
 */
import { limitBodyTime } from "./body.ts";
import {
  CLOSING_GRACE_MS,
  ConnectionTable,
  type GuardedListener,
  type ListenOptions,
  type ServeHandler,
} from "./connections.ts";
import { plainServe, throttled } from "./plain_listener.ts";

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal | undefined,
  handler: ServeHandler,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => { finished: Promise<void>; shutdown(): Promise<void> };

/** The runtime's per-connection HTTP entry point (what `Deno.serve` runs for each listener), if present. */
function serveOnConnection(): ServeOnConnection | null {
  const deno = Deno as unknown as Record<symbol, Record<string, unknown> | undefined> & { internal?: symbol };
  const internals = deno.internal === undefined ? undefined : deno[deno.internal];
  const candidate = internals?.serveHttpOnConnection;
  return typeof candidate === "function" ? candidate as ServeOnConnection : null;
}

const SHED_RESPONSE = new TextEncoder().encode(
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 69\r\n\r\n{"error":"overloaded","message":"Too many connections; retry shortly"}',
);
const BODYLESS = new Set(["GET", "HEAD", "OPTIONS"]);
const internalError = () =>
  new Response('{"error":"internal","message":"Internal server error"}', {
    status: 500,
    headers: { "content-type": "application/json" },
  });

/** One served connection. */
interface Served {
  readonly abort: AbortController;
  server: { shutdown(): Promise<void> } | null;
  /** Cut (aborted) or shut down already: Deno's abort listener throws on a server that is closing. */
  ending: boolean;
}

/** Closes `served` once its requests in flight are answered (the full stop). */
function closeGently(served: Served): void {
  if (served.ending) return;
  served.ending = true;
  void served.server?.shutdown().catch(() => {});
}

/** The soft limit of open files of this process (`/proc/self/limits`), or null where it cannot be read. */
export function descriptorLimit(): number | null {
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = line === undefined ? null : /^Max open files\s+(\d+|unlimited)/.exec(line)?.[1];
    return soft === undefined || soft === null || soft === "unlimited" ? null : Number(soft);
  } catch {
    return null;
  }
}

/**
 * Listens on `options.hostname:port` and serves `handler` under `options.limits`. Throws
 * (`AddrInUse`…) before returning when the port cannot be bound.
 */
export function listen(options: ListenOptions, handler: ServeHandler): GuardedListener {
  const emit = throttled(options.onEvent ?? (() => {}));
  const serveOn = serveOnConnection();
  if (serveOn === null) return plainServe(options, handler, emit);
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  options.onListen(listener.addr);
  const table = new ConnectionTable<Served>(options.limits);
  // Deno's abort listener of a connection throws BadResource (reported as an uncaught error,
  // which ends the process) when the connection ended on its own a moment earlier and the
  // runtime has not told us yet. That throw, and only that one, is swallowed while we cut.
  let cutting = false;
  const swallow = (event: ErrorEvent) => {
    if (cutting && event.error instanceof Deno.errors.BadResource) event.preventDefault();
  };
  globalThis.addEventListener("error", swallow);
  /** Closes `served` at once, without waiting for anything in flight (`force`: even when already ending). */
  const cut = (served: Served, force = false): void => {
    if (served.ending && !force) return;
    served.ending = true;
    cutting = true;
    try {
      served.abort.abort();
    } finally {
      cutting = false;
    }
  };
  // Shed connections get a 503 while few are being written; past that they are just closed.
  let shedWrites = 0;
  const finished = new Set<Promise<void>>();
  // A coarse clock, advanced by the sweep: a request costs no clock read.
  let now = performance.now();
  let stopping = false;

  const sweepMs = Math.min(
    1000,
    Math.max(50, Math.min(options.limits.headerTimeoutMs, options.limits.idleTimeoutMs) / 4),
  );
  const bodies = new Map<AbortController, number>();
  const sweep = setInterval(() => {
    now = performance.now();
    const due = table.due(now);
    for (const served of due.close) cut(served);
    for (const served of due.cut) cut(served);
    for (const [controller, deadline] of bodies) {
      if (deadline > now) continue;
      bodies.delete(controller);
      controller.abort();
    }
  }, sweepMs);

  const serveOne = (conn: Deno.Conn) => {
    now = performance.now();
    const served: Served = { abort: new AbortController(), server: null, ending: false };
    const admission = table.admit(served, now);
    if (admission.evicted !== null) cut(admission.evicted);
    if (!admission.admitted) {
      emit({ event: "connections_shed", open: table.size, shed: table.counts.shed, evicted: table.counts.evicted });
      if (shedWrites >= 64) return void conn.close();
      shedWrites++;
      conn.write(SHED_RESPONSE).catch(() => 0).finally(() => {
        shedWrites--;
        conn.close();
      });
      return;
    }
    const done = (response: Response, info: Deno.ServeHandlerInfo) => {
      table.finished(served, now);
      // An answer that refused the request's body (413, 408) ends the connection once it is
      // sent: the rest of the body is never read (the sweep cuts it if sending stalls).
      if (response.status >= 400 && response.headers.get("connection") === "close") {
        table.close(served, now);
        const later = () => setTimeout(() => cut(served), 100);
        info.completed.then(later, later);
      }
      return response;
    };
    const perRequest: ServeHandler = (request, info) => {
      table.started(served, now);
      let body: AbortController | null = null;
      if (!BODYLESS.has(request.method)) {
        body = new AbortController();
        bodies.set(body, now + options.limits.bodyTimeoutMs);
        limitBodyTime(request, body.signal, options.limits.bodyTimeoutMs);
      }
      let answer: Response | Promise<Response>;
      try {
        answer = handler(request, info);
      } catch (error) {
        answer = Promise.reject(error);
      }
      if (answer instanceof Response) {
        if (body !== null) bodies.delete(body);
        return done(answer, info as Deno.ServeHandlerInfo);
      }
      return answer.then((response) => done(response, info as Deno.ServeHandlerInfo), (error) => {
        table.finished(served, now);
        throw error;
      }).finally(() => body !== null && bodies.delete(body));
    };
    try {
      const server = serveOn(conn, served.abort.signal, perRequest, internalError, () => {});
      served.server = server;
      const end = server.finished.catch(() => {}).finally(() => {
        // Over: a cut still scheduled for it (the 100 ms after a refused body) must not abort
        // it again, which makes the runtime throw BadResource, after shutdown uncaught.
        served.ending = true;
        table.release(served);
        finished.delete(end);
      });
      finished.add(end);
    } catch {
      table.release(served);
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };

  const accepting = (async () => {
    let backoff = 10;
    while (!stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
        backoff = 10;
      } catch (error) {
        if (stopping || error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) return;
        // Out of descriptors (EMFILE, ENFILE): free some and keep accepting. Anything else
        // (a connection reset before it was accepted) is one client's problem.
        const message = error instanceof Error ? error.message : String(error);
        if (/os error 2[34]\b|too many open files/i.test(message)) {
          const freed = table.shed(Math.max(1, Math.ceil(table.size / 20)), now);
          for (const served of freed) cut(served);
          emit({ event: "descriptors_exhausted", open: table.size, closed: freed.length });
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(500, backoff * 2);
        continue;
      }
      serveOne(conn);
    }
  })();

  return {
    async shutdown() {
      stopping = true;
      clearInterval(sweep);
      try {
        listener.close();
      } catch {
        // already closed
      }
      await accepting;
      for (const served of table.all()) closeGently(served);
      // A connection whose answer cannot be delivered (its client stopped reading) is cut after the grace.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          for (const served of table.all()) cut(served, true);
          resolve();
        }, CLOSING_GRACE_MS);
      });
      await Promise.race([Promise.allSettled([...finished]), grace]);
      clearTimeout(timer);
      await Promise.allSettled([...finished]);
      globalThis.removeEventListener("error", swallow);
    },
    stats() {
      return {
        ...table.counts,
        open: table.size,
        waiting: table.count("waiting"),
        busy: table.count("busy"),
        idle: table.count("idle"),
        closing: table.count("closing"),
      };
    },
  };
}
