/**
 * The process lifecycle of `serve`: bind the port before anything on disk changes, build the
 * app, schedule rotation (cron) and the 2 s maintenance tick, and on SIGINT/SIGTERM drain (new
 * requests 503, in-flight ones finish up to a deadline), stop the listener, finish background
 * work, flush and close. Everything it touches — `Deno.serve`, `Deno.cron`, signals, timers,
 * the clock, the log sink — arrives in a {@linkcode Runtime}, so tests drive it without a process.
 * @module
 */
import { type App, createApp } from "./app.ts";
import { AppError } from "./core/errors.ts";
import { banner, bind, connectionLimits, defaultHasher, defaultSigning } from "./startup.ts";
import { type ConnectionLimits, type ListenerEvent } from "./http/connections.ts";
import { descriptorLimit } from "./http/listener.ts";
import type { ConnInfo } from "./http/router.ts";
import { accessLog } from "./ops/access_log.ts";
import { readableLine, reportSecret, withResetHint } from "./ops/banner.ts";
import { createLogger, type Logger } from "./ops/log.ts";
import type { Config } from "./settings.ts";
import { type MasterSecret, withMasterSecret } from "./store/master_secret.ts";
import { backendFor } from "./store/registry.ts";
import type { Hasher } from "./users/hash_queue.ts";
import type { SigningBackend } from "./core/signer.ts";

/** How long a graceful stop waits for in-flight requests before it gives up (exit 1). */
export const SHUTDOWN_DEADLINE_MS = 10_000;
/** The maintenance tick: key schedule, other processes' changes, auth-log retries. */
export const TICK_MS = 2000;

/** A listening server, as `Deno.serve` returns it. */
export interface Listener {
  shutdown(): Promise<void>;
}

/** A timer handle, as `setInterval` returns it. */
export type TimerId = ReturnType<typeof setInterval>;

/** Everything the lifecycle touches outside itself. */
export interface Runtime {
  /**
   * The listener (`listen()` of `lib/http/listener.ts`): must throw (AddrInUse…) before
   * returning when the port cannot be bound, and enforce `limits`.
   */
  serve(
    options: {
      port: number;
      hostname: string;
      limits: ConnectionLimits;
      onListen(addr: { hostname: string; port: number }): void;
      onEvent?(event: ListenerEvent): void;
    },
    handler: (request: Request, info: ConnInfo) => Response | Promise<Response>,
  ): Listener;
  /** The soft limit of open descriptors, for the default connection cap; read from `/proc` by default. */
  descriptorLimit?: () => number | null;
  /** `Deno.cron`. */
  cron(name: string, schedule: string, options: { signal: AbortSignal }, run: () => Promise<void>): void;
  /** `Deno.addSignalListener`. */
  onSignal(signal: "SIGINT" | "SIGTERM", listener: () => void): void;
  /** Unix milliseconds now. */
  clock(): number;
  /** Receives each log line; `flush()` writes what is buffered. */
  sink: { write(line: string): void; flush(): void };
  /** Logical cores, for the default hashing concurrency. */
  cpus: number;
  /** Stdout is a terminal: `LOG_FORMAT=auto` then writes a banner and readable lines. */
  tty?: boolean;
  /** ANSI colours in readable lines (a terminal, and NO_COLOR unset). */
  color?: boolean;
  /** This process, in the notes stored with its key changes. Default `serve (pid N)`. */
  origin?: string;
  /** The password hasher; Argon2id in a lower-priority worker by default. */
  hasher?: Hasher & { arm?(): void; close?(): void };
  /** Holds the signing keys; chosen at start by default (OpenSSL where it is faster, else WebCrypto). */
  signing?: SigningBackend;
  /** Timers; the globals by default. */
  setInterval?: (run: () => void, ms: number) => TimerId;
  clearInterval?: (id: TimerId) => void;
}

/** The issuer, once the port is known: an ephemeral port (`--port 0`) is only known when bound. */
function bound(config: Config, addr: { hostname: string; port: number }): Config {
  if (config.port !== 0 || config.issuerSet) return config;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return { ...config, port: addr.port, issuer: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}` };
}

/**
 * Runs the server until a signal stops it. Resolves with the exit code: 0 after a complete
 * drain, 1 when the deadline passed or closing failed. Throws (exit 1) when the port cannot be
 * bound — before anything on disk was created — or the app cannot start.
 */
export async function runServer(config: Config, runtime: Runtime): Promise<number> {
  const { clock, sink } = runtime;
  const every = runtime.setInterval ?? ((run, ms) => setInterval(run, ms));
  const cancel = runtime.clearInterval ?? ((id) => clearInterval(id));
  const human = config.logFormat === "text" || (config.logFormat === "auto" && runtime.tty === true);
  const color = human && runtime.color === true;
  const write = human ? (line: string) => sink.write(readableLine(line, { color })) : sink.write;
  const log = createLogger({ level: config.logLevel, clock, write });
  let app: App | null = null;
  let addr = { hostname: config.hostname, port: config.port };
  const starting = new AppError("unavailable", "Server is starting; retry shortly", { retryAfter: 1 });
  const listener = bind(config, () =>
    runtime.serve(
      {
        port: config.port,
        hostname: config.hostname,
        limits: connectionLimits(config, (runtime.descriptorLimit ?? descriptorLimit)(), log),
        onListen: (listening) => {
          addr = listening;
        },
        onEvent: ({ event, ...fields }) => log.warn(event, fields),
      },
      (request, info) =>
        app !== null ? app.handle(request, info) : Response.json({ error: starting.code, message: starting.message }, {
          status: 503,
          headers: { "retry-after": "1" },
        }),
    ));

  const served = bound(config, addr);
  let secret: MasterSecret | null = null;
  const hasher = runtime.hasher ?? defaultHasher(log);
  const signing = runtime.signing ?? defaultSigning(log);
  try {
    const started = await withMasterSecret(served, (masterSecret) =>
      createApp(served, {
        clock,
        masterSecret,
        previousSecret: served.previousSecret,
        origin: runtime.origin ?? `serve (pid ${Deno.pid})`,
        hasher,
        signing,
        hashConcurrency: served.hashConcurrency ?? Math.max(1, runtime.cpus - 1),
        log,
        onRequest: accessLog(log),
      }));
    app = started.value;
    secret = started.secret;
    if (!human) reportSecret(log, secret, app.store.created);
  } catch (error) {
    hasher.close?.();
    signing.close?.();
    await listener.shutdown();
    sink.flush();
    throw withResetHint(error, config.db, backendFor(config.db).isFile(config.db));
  }
  hasher.arm?.();
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `http://${host}:${addr.port}`;
  if (human) sink.write(banner(served, app, url, secret!, color));
  else log.info("listening", { url, issuer: served.issuer, db: app.store.description });
  return await lifecycle(app, { runtime, log, listener, hasher, signing, every, cancel });
}

interface LifecycleParts {
  readonly runtime: Runtime;
  readonly log: Logger;
  readonly listener: Listener;
  readonly hasher: { close?(): void };
  readonly signing: { close?(): void };
  readonly every: (run: () => void, ms: number) => TimerId;
  readonly cancel: (id: TimerId) => void;
}

/** Background work, signals and the graceful stop of a started app. */
function lifecycle(app: App, parts: LifecycleParts): Promise<number> {
  const { runtime, log, listener, hasher } = parts;
  // Background work (rotation, polling) is tracked so a stop waits for it before closing the DB.
  const background = new Set<Promise<void>>();
  const track = (work: Promise<void>): Promise<void> => {
    background.add(work);
    return work.finally(() => background.delete(work));
  };
  const cron = new AbortController();
  runtime.cron(
    "jwks-server key rotation",
    "* * * * *",
    { signal: cron.signal },
    () => track(app.rotate().catch((error) => log.error("rotation_failed", { error }))),
  );
  // Reported once per outage, not every tick.
  let refreshFailing = false;
  const tick = parts.every(() => {
    void track(
      app.refresh().then(() => {
        if (refreshFailing) log.info("refresh_recovered", {});
        refreshFailing = false;
      }, (error) => {
        if (!refreshFailing) log.error("refresh_failed", { error });
        refreshFailing = true;
      }),
    );
  }, TICK_MS);

  // Deno 2.9's server.shutdown() makes request bodies that are still arriving unreadable
  // (denoland/deno#36809), so it is called only once the requests in flight are done: from the
  // signal on, new requests get 503 with `Connection: close`; the ones already received run to
  // completion (up to the deadline). Then the listener closes, background work finishes, the
  // auth log is flushed and the database closed (SQLite checkpoints the WAL).
  let stopping: Promise<number> | null = null;
  const stop = (signal: string): Promise<number> =>
    stopping ??= (async () => {
      app.drain();
      log.info("shutting_down", { signal, inFlight: app.metrics.inFlight, deadlineMs: SHUTDOWN_DEADLINE_MS });
      runtime.sink.flush();
      parts.cancel(tick);
      cron.abort();
      const deadline = runtime.clock() + SHUTDOWN_DEADLINE_MS;
      const remaining = () => Math.max(0, deadline - runtime.clock());
      while (app.metrics.inFlight > 0 && remaining() > 0) await new Promise((r) => setTimeout(r, 10));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"deadline">((resolve) => {
        timer = setTimeout(() => resolve("deadline"), remaining());
      });
      const drained = app.metrics.inFlight > 0
        ? "deadline"
        : await Promise.race([listener.shutdown().then(() => "drained" as const), late]);
      if (drained === "deadline") {
        log.error("shutdown_deadline_passed", { inFlight: app.metrics.inFlight, deadlineMs: SHUTDOWN_DEADLINE_MS });
      }
      await Promise.race([Promise.allSettled([...background]), late]);
      clearTimeout(timer);
      try {
        await app.close();
      } catch (error) {
        log.error("close_failed", { error });
        return 1;
      } finally {
        hasher.close?.();
        parts.signing.close?.();
      }
      log.info("stopped", { signal });
      runtime.sink.flush();
      return drained === "drained" ? 0 : 1;
    })();
  return new Promise<number>((resolve) => {
    // A second signal (Ctrl-C in a terminal reaches `deno task` and the server alike, and
    // systemd signals the whole group) is the same request to stop: the drain goes on.
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      runtime.onSignal(signal, () => void stop(signal).then(resolve));
    }
  });
}
