/**
 * Assembles the service from a validated `Config`: opens the store (checking the master
 * secret before any write), brings the key set up to date, seeds users, and builds the
 * dependencies `handle()` needs. Reads no environment and no system clock: `main.ts` passes
 * them in, and tests build the same app around a clock they control.
 * @module
 */
import { adminRoutes } from "./routes/admin.ts";
import { type Config, isPostgresUrl } from "./settings.ts";
import { createSealer, type Sealer, secretCheck } from "./core/seal.ts";
import type { HttpDeps, HttpMetrics, RequestRecord, RouteTable } from "./http/router.ts";
import { type KeyEvent, KeyManager } from "./keys/key_manager.ts";
import { type Alg, ALGS, type KeyMaterial } from "./core/key_material.ts";
import { type Logger, silentLogger } from "./ops/log.ts";
import { LoginLog } from "./users/login_log.ts";
import { Metrics, metricsRoutes } from "./ops/metrics.ts";
import { openPostgresStore } from "./store/postgres.ts";
import { MemoryRateLimiter, type RateLimiter } from "./core/rate_limit.ts";
import { openRedisRateLimiter, RedisRateLimiter } from "./store/redis.ts";
import { isBusyError, openSqliteStore } from "./store/sqlite.ts";
import type { Store } from "./store/ports.ts";
import { DEFAULT_BACKOFF, type Hasher, HashQueue, LoginBackoff, UserService } from "./users/users.ts";
import type { SigningBackend } from "./signing/backend.ts";

/** What the app needs from outside. */
export interface AppOptions {
  /** Unix milliseconds now. */
  clock: () => number;
  /** The master secret (`NOT_MY_KEY` or the development secret). */
  masterSecret: string;
  /** The password hasher, before the concurrency cap is applied. */
  hasher: Hasher;
  /** Hashes computed at once. Default 1. */
  hashConcurrency?: number;
  /** Logins allowed to wait for hashing. Default `config.hashQueue`. */
  hashQueue?: number;
  log?: Logger;
  /** Holds the signing keys; default non-extractable WebCrypto keys. `main.ts` passes the chosen one. */
  signing?: SigningBackend;
  /** Key generation override, for tests. */
  generate?: (alg: Alg) => Promise<KeyMaterial>;
  /** Storage override; by default opened from `config.db`. */
  openStore?: (sealer: Sealer) => Store | Promise<Store>;
  /** Rate limiter override; by default in memory per `config.rateLimit`. */
  rateLimiter?: RateLimiter | null;
  /** Extra routes and instruments for the HTTP edge. */
  routes?: RouteTable;
  /** Replaces the Prometheus registry as the edge's instrument (the registry still serves `/metrics`). */
  metrics?: HttpMetrics;
  onRequest?: (record: RequestRecord) => void;
}

/** The assembled service. */
export interface App {
  readonly config: Config;
  readonly store: Store;
  readonly keys: KeyManager;
  readonly users: UserService;
  readonly hasher: HashQueue;
  readonly loginLog: LoginLog;
  readonly rateLimiter: RateLimiter | null;
  /** The Prometheus registry behind `GET /metrics`. */
  readonly metrics: Metrics;
  readonly deps: HttpDeps;
  readonly log: Logger;
  /** One rotation step: apply due lifecycle changes (idempotent). */
  rotate(): Promise<void>;
  /**
   * The 2 s tick: one maintenance step (which also picks up key changes made by other
   * processes; a successor key is due a lead time before the next key signs) and a retry of
   * pending auth-log writes.
   */
  refresh(): Promise<void>;
  /** Flushes pending writes and closes the store. */
  close(): Promise<void>;
}

/** Opens the store for `config.db`: PostgreSQL for a `postgres://` URL, else SQLite. */
export async function openStore(config: Config, sealer: Sealer, options: { log?: Logger } = {}): Promise<Store> {
  const secret = secretCheck(sealer);
  if (isPostgresUrl(config.db)) {
    const log = options.log ?? silentLogger;
    return await openPostgresStore(config.db, { secret, onError: (error) => log.error("database_error", { error }) });
  }
  // Several processes starting at once on a new file can meet SQLITE_BUSY where SQLite does not
  // wait (setting up WAL, a read-only look at a WAL being recovered): retry a few times.
  for (let attempt = 1;; attempt++) {
    try {
      return openSqliteStore(config.db, { secret });
    } catch (error) {
      if (attempt >= 20 || !isBusyError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    }
  }
}

/** Builds the service. Throws `wrong_secret`, `corrupt_data` and friends before serving. */
export async function createApp(config: Config, options: AppOptions): Promise<App> {
  const log = options.log ?? silentLogger;
  const sealer = createSealer(options.masterSecret);
  const store = await (options.openStore ?? ((s: Sealer) => openStore(config, s, { log })))(sealer);
  try {
    const onEvent = (event: KeyEvent) => {
      const { event: name, ...fields } = event;
      log.info(name, fields);
    };
    const keys = new KeyManager({
      store,
      sealer,
      policy: config.policy,
      clock: options.clock,
      onEvent,
      ...(options.generate ? { generate: options.generate } : {}),
      ...(options.signing ? { importSigner: (jwk, alg) => options.signing!.importKey(jwk, alg) } : {}),
    });
    await keys.apply();
    keys.view();

    const hasher = new HashQueue(options.hasher, {
      concurrency: options.hashConcurrency ?? 1,
      maxQueue: options.hashQueue ?? config.hashQueue,
    });
    const backoff = config.loginBackoff === null
      ? null
      : new LoginBackoff({ ...config.loginBackoff, maxEntries: DEFAULT_BACKOFF.maxEntries });
    const users = new UserService({ store, hasher, backoff });
    await users.prepare();
    for (const seed of config.seedUsers) {
      await users.upsert(seed.username, seed.password, options.clock());
      log.info("user_seeded", { username: seed.username });
    }
    const loginLog = new LoginLog(store, {
      onError: (error, pending) => log.error("auth_log_write_failed", { error, pending }),
    });
    const rateLimiter: RateLimiter | null = options.rateLimiter !== undefined
      ? options.rateLimiter
      : config.rateLimit === null
      ? null
      : config.rateLimitStore === "memory"
      ? new MemoryRateLimiter(config.rateLimit)
      : await openRedisRateLimiter(config.rateLimitStore, config.rateLimit, {
        // Fail open to per-instance limits: a Redis outage must not lock every user out.
        onUnavailable: (error) =>
          log.error("rate_limit_store_unavailable", { error, fallback: "per-instance in-memory limits" }),
        onRecovered: () => log.warn("rate_limit_store_recovered", {}),
      });
    if (rateLimiter instanceof RedisRateLimiter) log.info("rate_limits_shared", { store: rateLimiter.description });

    const metrics = new Metrics({ clock: options.clock });
    metrics.watch({
      keys,
      hasher,
      loginLog,
      rateLimiter,
      signing: options.signing ?? { name: "webcrypto", library: "WebCrypto" },
    });
    let databaseDown = false;
    const ping = async () => {
      try {
        await store.ping();
      } catch (error) {
        if (!databaseDown) log.error("database_unavailable", { error });
        databaseDown = true;
        throw error;
      }
      if (databaseDown) log.info("database_available", {});
      databaseDown = false;
    };

    // The admin API exists only with ADMIN_TOKEN; without it, /admin/... is 404 like any unknown path.
    const routes: RouteTable = new Map([
      ...metricsRoutes(metrics),
      ...(config.adminToken === null ? [] : adminRoutes({ token: config.adminToken, keys, store, log })),
      ...(options.routes ?? []),
    ]);

    const deps: HttpDeps = {
      settings: {
        authMode: config.authMode,
        issuer: config.issuer,
        audience: config.audience,
        tokenTtl: config.policy.tokenTtl,
        maxAge: config.policy.maxAge,
        lead: config.policy.lead,
        trustProxy: config.trustProxy,
        algs: ALGS,
      },
      keys,
      clock: options.clock,
      users,
      rateLimiter,
      loginLog,
      ping,
      routes,
      metrics: options.metrics ?? metrics,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      onError: (error, requestId) => log.error("request_failed", { error, requestId }),
    };

    return {
      config,
      store,
      keys,
      users,
      hasher,
      loginLog,
      rateLimiter,
      metrics,
      deps,
      log,
      async rotate() {
        await keys.apply();
      },
      async refresh() {
        // A maintenance step every tick (an empty plan costs two small reads): a successor key
        // is due a lead time before the next key signs, which a once-a-minute cron could miss
        // with short rotation intervals. apply() also picks up other processes' changes.
        try {
          await keys.apply();
        } finally {
          keys.view();
          if (loginLog.pending > 0) await loginLog.flush();
        }
      },
      async close() {
        await loginLog.close();
        await rateLimiter?.close?.();
        await store.close();
        keys.ring.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
