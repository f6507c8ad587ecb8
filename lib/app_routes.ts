/**
 * The route modules the app serves, composed once: each endpoint family's factory gets the
 * parts it needs. Mounting a new endpoint is one line here; which parts exist is `app.ts`'s job.
 * @module
 */
import type { RateLimiter } from "./core/rate_limit.ts";
import { rateLimit } from "./http/middleware.ts";
import type { Route } from "./http/router.ts";
import type { KeyManager } from "./keys/key_manager.ts";
import type { ClientService } from "./oauth/clients.ts";
import type { Logger } from "./ops/log.ts";
import type { Metrics } from "./ops/metrics.ts";
import { adminRoutes } from "./routes/admin.ts";
import { formKey, formSeal } from "./oauth/pending.ts";
import { authorizeRoutes } from "./routes/authorize.ts";
import { authRoutes } from "./routes/auth.ts";
import { consoleRoutes } from "./routes/console.ts";
import { discoveryDocument, discoveryRoutes, publishedAlgs } from "./routes/discovery.ts";
import { healthRoutes } from "./routes/health.ts";
import { jwksRoutes } from "./routes/jwks.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { oauthRoutes } from "./routes/oauth.ts";
import { probeRoutes } from "./routes/probe.ts";
import { registerRoutes } from "./routes/register.ts";
import type { Config } from "./settings.ts";
import type { Store } from "./store/ports.ts";
import { loginPolicy } from "./users/login.ts";
import type { LoginLog } from "./users/login_log.ts";
import type { UserService } from "./users/users.ts";

/** The running parts the routes are built on. */
export interface RouteParts {
  readonly config: Config;
  readonly keys: KeyManager;
  readonly store: Store;
  readonly users: UserService;
  readonly clients: ClientService;
  readonly loginLog: LoginLog;
  readonly metrics: Metrics;
  readonly rateLimiter: RateLimiter | null;
  /** Unix milliseconds now. */
  readonly clock: () => number;
  readonly log: Logger;
  /** How often the console page polls for key changes, in ms. */
  readonly consolePollMs?: number;
  /** The master secret, which keys the sign-in form's seal (so every instance accepts it). */
  readonly masterSecret: string;
}

/** A store ping that logs an outage once, and its end. */
function watchedPing(store: Store, log: Logger): () => Promise<void> {
  let down = false;
  return async () => {
    try {
      await store.ping();
    } catch (error) {
      if (!down) log.error("database_unavailable", { error });
      down = true;
      throw error;
    }
    if (down) log.info("database_available", {});
    down = false;
  };
}

/** Every built-in route, in the order they are registered. */
export function appRoutes(parts: RouteParts): Route[] {
  const { config, keys, store, users, clients, loginLog, metrics, rateLimiter, clock, log } = parts;
  const limited = (name: string) =>
    rateLimit(rateLimiter, { name, clock, onLimited: (route) => metrics.rateLimited(route) });
  const login = loginPolicy({ mode: config.authMode, users, onFailure: (reason) => metrics.authFailed(reason) });
  // A token ?expired=true signed is expired for every verifier with a normal leeway.
  const expiredBy = config.policy.clockSkew + 60;
  const routes: Route[] = [
    ...jwksRoutes({ keys, maxAge: config.policy.maxAge, onServed: (notModified) => metrics.jwksServed(notModified) }),
    ...authRoutes({
      login,
      keys,
      issuer: config.issuer,
      audience: config.audience,
      tokenTtl: config.policy.tokenTtl,
      maxTokenTtl: config.maxTokenTtl,
      expiredBy,
      clock,
      loginLog,
      guard: limited("/auth"),
      onIssued: (alg, expired) => metrics.tokenIssued(alg, expired),
    }),
    ...oauthRoutes({
      keys,
      store: store.oauth,
      issuer: config.issuer,
      clients,
      users,
      login,
      loginLog,
      audience: config.audience,
      tokenTtl: config.policy.tokenTtl,
      refreshTtl: config.refreshTokenTtl,
      maxTokenTtl: config.maxTokenTtl,
      expiredBy,
      clock,
      guard: limited("/token"),
    }),
    ...authorizeRoutes({
      issuer: config.issuer,
      login,
      clients,
      store: store.oauth,
      keys,
      clock,
      loginLog,
      seal: formSeal(formKey(parts.masterSecret)),
      guard: limited("/authorize"),
    }),
    ...registerRoutes({ users, clock, guard: limited("/register") }),
    ...discoveryRoutes({ issuer: config.issuer, keys, maxAge: config.policy.maxAge }),
    ...consoleRoutes({
      keys,
      store,
      issuer: config.issuer,
      authMode: config.authMode,
      discovery: () => discoveryDocument({ issuer: config.issuer, algs: publishedAlgs(keys.view()) }),
      ...(parts.consolePollMs === undefined ? {} : { pollMs: parts.consolePollMs }),
    }),
    ...healthRoutes({ keys, ping: watchedPing(store, log), lead: config.policy.lead }),
    ...metricsRoutes(metrics),
    // The forged tokens are for testing verifiers against a mock issuer: open mode only.
    ...(config.authMode === "open"
      ? probeRoutes({ keys, authMode: config.authMode, issuer: config.issuer, audience: config.audience })
      : []),
    // The admin API exists only with ADMIN_TOKEN; without it, /admin/... is 404 like any unknown path.
    ...(config.adminToken === null ? [] : adminRoutes({ token: config.adminToken, keys, store, log, clients, clock })),
  ];
  return routes;
}
