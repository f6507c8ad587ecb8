/**
 * What `serve` sets up around the app before it serves: binding the port with one clear line
 * when it cannot, the connection limits, the default password hasher and signing backend, and
 * the banner a terminal shows. The lifecycle that uses them is `server.ts`.
 * @module
 */
import type { App } from "./app.ts";
import { VERSION } from "./cli/commands.ts";
import { AppError } from "./core/errors.ts";
import { policyValue } from "./core/key_policy.ts";
import { autoMaxConnections, type ConnectionLimits } from "./http/connections.ts";
import { EMPTY_COPY_WARNING, startBanner } from "./ops/banner.ts";
import { type Logger } from "./ops/log.ts";
import type { Config } from "./settings.ts";
import { type MasterSecret } from "./store/master_secret.ts";
import { argon2Hasher } from "./users/argon2.ts";
import { WorkerHasher } from "./users/hash_worker.ts";
import type { SigningBackend } from "./core/signer.ts";
import { chooseSigningBackend } from "./signing/choose.ts";
export function defaultHasher(log: Logger): WorkerHasher {
  // Argon2 runs below the request thread's priority, so a login flood cannot starve /jwks. The
  // worker starts with the first login after start-up; until then hashing runs in-thread.
  return new WorkerHasher({
    fallback: argon2Hasher(),
    lazy: true,
    onState: (state) => {
      if (state.state === "failed" && state.reason !== "closed") {
        log.warn("hash_worker_failed", { reason: state.reason, hint: "password hashing runs at normal priority" });
      } else if (state.state === "ready" && !state.niced) {
        log.warn("hash_priority_unchanged", { hint: "could not lower the priority of password hashing" });
      }
    },
  });
}

/** The signing backend chosen at start, named in the log. */
export function defaultSigning(log: Logger): SigningBackend {
  const chosen = chooseSigningBackend({
    onKeyFallback: (alg, error) =>
      log.warn("signing_key_fallback", { alg, backend: "webcrypto", reason: (error as Error).message }),
  });
  log.info("signing_backend", {
    backend: chosen.backend.name,
    library: chosen.backend.library,
    algs: chosen.algs,
    routes: chosen.routes,
    calls: chosen.inline ? "inline" : "threads",
    ...(chosen.fallbackReason === null ? {} : { fallback: chosen.fallbackReason }),
  });
  return chosen.backend;
}

/** The connection limits of `config`; warns when the cap leaves no room under the descriptor limit. */
export function connectionLimits(config: Config, fdLimit: number | null, log: Logger): ConnectionLimits {
  const maxConnections = config.maxConnections ?? autoMaxConnections(fdLimit);
  if (fdLimit !== null && maxConnections > fdLimit - 64) {
    log.warn("max_connections_above_descriptor_limit", {
      maxConnections,
      descriptorLimit: fdLimit,
      hint: "raise the limit (ulimit -n, LimitNOFILE=) or lower --max-connections",
    });
  }
  return {
    maxConnections,
    headerTimeoutMs: config.headerTimeout,
    idleTimeoutMs: config.idleTimeout,
    bodyTimeoutMs: config.bodyTimeout,
  };
}

/** The start banner of a terminal. */
export function banner(config: Config, app: App, url: string, secret: MasterSecret, color: boolean): string {
  const { alg, rotationInterval, tokenTtl } = app.keys.policy;
  const warnings = [
    ...(secret.weak ? ["NOT_MY_KEY is shorter than 16 bytes; use 32 random bytes"] : []),
    ...(app.store.created && secret.source === "file" ? [EMPTY_COPY_WARNING] : []),
  ];
  return startBanner({
    version: VERSION,
    url,
    issuer: config.issuer,
    db: app.store.description,
    authMode: config.authMode,
    adminApi: config.adminToken !== null,
    keys: `${alg}, each key signs ${policyValue(rotationInterval)}, tokens live ${policyValue(tokenTtl)}`,
    devSecretFile: secret.source === "file" || secret.source === "created" ? secret.file : null,
    warnings,
  }, { color });
}

/** Binds the port; a port taken or not allowed is one line naming it (exit 1), before any file exists. */
export function bind<T>(config: Config, serve: () => T): T {
  try {
    return serve();
  } catch (error) {
    const where = `${config.hostname}:${config.port}`;
    if (error instanceof Deno.errors.AddrInUse) {
      throw new AppError("unavailable", `Port ${where} is in use (another server?); choose another with --port`);
    }
    if (error instanceof Deno.errors.AddrNotAvailable) {
      throw new AppError("unavailable", `Cannot listen on ${where}: no such address here; check --hostname`);
    }
    throw error;
  }
}
