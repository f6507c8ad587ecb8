/**
 * Assembles the service from a validated `Config`: opens the store (the master secret is checked
 * before any write), brings the key set up to date, seeds users, and composes the route modules
 * into one router. Reads no environment and no system clock: `lib/server.ts` passes them in, and
 * tests build the same app around a clock they control.
 * @module
 */
import type { Alg, KeyMaterial } from "./core/key_material.ts";
import type { RateLimiter } from "./core/rate_limit.ts";
import { MemoryRateLimiter } from "./core/rate_limit.ts";
import { createSealer, rotatingSealer, type Sealer, secretCheck } from "./core/seal.ts";
import { clientAddress } from "./http/client_ip.ts";
import { type ConnInfo, createRouter, type RequestRecord, type Route, type RouterMetrics } from "./http/router.ts";
import type { KeyEvent } from "./keys/key_events.ts";
import { KeyManager } from "./keys/key_manager.ts";
import { housekeeping } from "./ops/housekeeping.ts";
import { type Logger, silentLogger } from "./ops/log.ts";
import { Metrics } from "./ops/metrics.ts";
import { ClientService } from "./oauth/clients.ts";
import { oauthPurger } from "./oauth/purge.ts";
import type { Config } from "./settings.ts";
import { openStore as openStoreAt } from "./store/registry.ts";
import type { SigningBackend } from "./core/signer.ts";
import type { Store } from "./store/ports.ts";
import { openRedisRateLimiter, RedisRateLimiter } from "./store/redis.ts";
import { DEFAULT_BACKOFF, LoginBackoff } from "./users/backoff.ts";
import { type Hasher, HashQueue } from "./users/hash_queue.ts";
import { LoginLog } from "./users/login_log.ts";
import { UserService } from "./users/users.ts";
import { appRoutes } from "./app_routes.ts";

/** What the app needs from outside. */
export interface AppOptions {
  /** Unix milliseconds now. */
  clock: () => number;
  /** The master secret (`NOT_MY_KEY` or the development secret). */
  masterSecret: string;
  /** The master secret before a rotation (`NOT_MY_KEY_PREVIOUS`): keys sealed with it open and are sealed again. */
  previousSecret?: string | null;
  /** This process, in the notes stored with its key changes (`serve (pid 42 on web-1)`). */
  origin?: string;
  /** The password hasher, before the concurrency cap is applied. */
  hasher: Hasher;
  /** Hashes computed at once. Default 1. */
  hashConcurrency?: number;
  /** Logins allowed to wait for hashing. Default `config.hashQueue`. */
  hashQueue?: number;
  log?: Logger;
  /** Key generation override, for tests. */
  generate?: (alg: Alg) => Promise<KeyMaterial>;
  /** Storage override; by default opened from `config.db`. */
  openStore?: (sealer: Sealer) => Store | Promise<Store>;
  /** Rate limiter override; by default in memory per `config.rateLimit`. */
  rateLimiter?: RateLimiter | null;
  /** Extra routes, composed after the built-in ones. */
  routes?: readonly Route[];
  /** Replaces the Prometheus registry as the router's instrument (the registry still serves `/metrics`). */
  metrics?: RouterMetrics;
  onRequest?: (record: RequestRecord) => void;
  /** Told about unexpected errors while answering; by default they are logged. */
  onError?: (error: unknown, requestId: string) => void;
  /** Holds the signing keys; default non-extractable WebCrypto keys. The server passes the chosen one. */
  signing?: SigningBackend;
  /** How often the console page polls for key changes, in ms. Default 2000. */
  consolePollMs?: number;
}

/** The assembled service. */
export interface App {
  readonly config: Config;
  readonly store: Store;
  readonly keys: KeyManager;
  readonly users: UserService;
  /** OAuth clients. */
  readonly clients: ClientService;
  readonly hasher: HashQueue;
  readonly loginLog: LoginLog;
  readonly rateLimiter: RateLimiter | null;
  /** The Prometheus registry behind `GET /metrics`. */
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Answers one request; never throws. */
  handle(request: Request, info: ConnInfo): Response | Promise<Response>;
  /** From now on, new requests get 503 with `Connection: close` (a graceful stop began). */
  drain(): void;
  /** One rotation step: apply due lifecycle changes (idempotent). */
  rotate(): Promise<void>;
  /**
   * The 2 s tick: one maintenance step (which also picks up key changes made by other
   * processes; a successor key is due a lead time before the next key signs), a retry of
   * pending auth-log writes, and once a minute the purge of dead OAuth rows.
   */
  refresh(): Promise<void>;
  /** Flushes pending writes and closes the store. */
  close(): Promise<void>;
}

/** Opens the store for `config.db` with the backend the registry picks for it. */
export function openStore(config: Pick<Config, "db">, sealer: Sealer, options: { log?: Logger } = {}): Promise<Store> {
  const log = options.log ?? silentLogger;
  return openStoreAt(config.db, {
    secret: secretCheck(sealer),
    onError: (error) => log.error("database_error", { error }),
  });
}

async function openRateLimiter(config: Config, log: Logger): Promise<RateLimiter | null> {
  if (config.rateLimit === null) return null;
  if (config.rateLimitStore === "memory") return new MemoryRateLimiter(config.rateLimit);
  const limiter = await openRedisRateLimiter(config.rateLimitStore, config.rateLimit, {
    // Fail open to per-instance limits: a Redis outage must not lock every user out.
    onUnavailable: (error) =>
      log.error("rate_limit_store_unavailable", { error, fallback: "per-instance in-memory limits" }),
    onRecovered: () => log.warn("rate_limit_store_recovered", {}),
  });
  if (limiter instanceof RedisRateLimiter) log.info("rate_limits_shared", { store: limiter.description });
  return limiter;
}

/** Logs a key event; a policy that differs from the server's is a warning. */
function logKeyEvent(log: Logger, change: KeyEvent): void {
  const { event, ...fields } = change;
  if (event === "key_policy_differs") {
    log.warn(event, { ...fields, hint: "this server plans with its own settings: give every instance the same ones" });
  } else if (change.event === "keys_resealed" && change.by !== undefined) {
    log.warn(event, {
      ...fields,
      hint: "unless NOT_MY_KEY here is the new secret, restart with it: keys made from now on open only with that",
    });
  } else log.info(event, fields);
}

/** Builds the service. Throws `wrong_secret`, `corrupt_data` and friends before serving. */
export async function createApp(config: Config, options: AppOptions): Promise<App> {
  const log = options.log ?? silentLogger;
  const { clock } = options;
  const previous = options.previousSecret ?? null;
  const sealer = rotatingSealer(createSealer(options.masterSecret), previous === null ? null : createSealer(previous));
  const store = await (options.openStore ?? ((s: Sealer) => openStore(config, s, { log })))(sealer);
  try {
    const keys = new KeyManager({
      store,
      sealer,
      policy: config.policy,
      clock,
      onEvent: (event) => logKeyEvent(log, event),
      origin: options.origin ?? "serve",
      onKeyError: ({ event, ...fields }) => log.error(event, fields),
      ...(options.generate ? { generate: options.generate } : {}),
      ...(options.signing ? { importSigner: (key, alg) => options.signing!.importKey(key, alg) } : {}),
    });
    // During a rolling change of master secret, what is still sealed with the old one is
    // sealed again with the new one, in one transaction, before anything else.
    const reseal = async () => {
      const count = await keys.reseal((kid, blob) => sealer.reseal(kid, blob));
      sealer.settle();
      if (count > 0) log.info("keys_resealed", { count, hint: "every key now opens with NOT_MY_KEY" });
      return count;
    };
    if (previous !== null && await reseal() === 0) {
      log.info("previous_secret_unused", { hint: "every key opens with NOT_MY_KEY: unset NOT_MY_KEY_PREVIOUS" });
    }
    await keys.adopt();
    keys.view();
    const upkeep = housekeeping({ store, clock, authLogRetention: config.authLogRetention, log });

    const hasher = new HashQueue(options.hasher, {
      concurrency: options.hashConcurrency ?? 1,
      maxQueue: options.hashQueue ?? config.hashQueue,
      ...(config.hashQueuePerIp === null ? {} : { maxPerClient: config.hashQueuePerIp }),
    });
    const backoff = config.loginBackoff === null
      ? null
      : new LoginBackoff({ ...config.loginBackoff, maxEntries: DEFAULT_BACKOFF.maxEntries });
    const users = new UserService({ store, hasher, backoff });
    await users.prepare();
    for (const seed of config.seedUsers) {
      await users.upsert(seed.username, seed.password, clock());
      log.info("user_seeded", { username: seed.username });
    }
    const loginLog = new LoginLog(store, {
      onError: (error, pending) => log.error("auth_log_write_failed", { error, pending }),
    });
    const rateLimiter = options.rateLimiter !== undefined ? options.rateLimiter : await openRateLimiter(config, log);
    const metrics = new Metrics({ clock });
    metrics.watch({
      keys,
      hasher,
      loginLog,
      rateLimiter,
      signing: options.signing ?? { name: "webcrypto", library: "WebCrypto" },
    });

    const clients = new ClientService(store.oauth);
    const routes: Route[] = [
      ...appRoutes({
        config,
        keys,
        store,
        users,
        clients,
        loginLog,
        metrics,
        rateLimiter,
        clock,
        log,
        ...(options.consolePollMs === undefined ? {} : { consolePollMs: options.consolePollMs }),
        masterSecret: options.masterSecret,
      }),
      ...(options.routes ?? []),
    ];
    const purgeOAuth = oauthPurger(store.oauth, { clock, log });
    let draining = false;
    const handle = createRouter(routes, {
      clientIp: (request, info) =>
        clientAddress(info.remoteAddr.hostname, request.headers.get("x-forwarded-for"), config.trustProxy),
      metrics: options.metrics ?? metrics,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      onError: options.onError ?? ((error, requestId) => log.error("request_failed", { error, requestId })),
      draining: () => draining,
    });

    return {
      config,
      store,
      keys,
      users,
      clients,
      hasher,
      loginLog,
      rateLimiter,
      metrics,
      log,
      handle,
      drain() {
        draining = true;
      },
      async rotate() {
        await keys.apply();
      },
      async refresh() {
        // A maintenance step every tick (an empty plan costs two small reads): a successor key
        // is due a lead time before the next key signs, which a once-a-minute cron could miss
        // with short rotation intervals. apply() also picks up other processes' changes.
        try {
          await keys.apply();
          if (sealer.stale) await reseal();
        } finally {
          keys.view();
          if (loginLog.pending > 0) await loginLog.flush();
          await purgeOAuth();
          await upkeep();
        }
      },
      async close() {
        await loginLog.close();
        keys.ring.close();
        await rateLimiter?.close?.();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
