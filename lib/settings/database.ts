/**
 * The settings of the database and its keys, which every command that opens the database takes
 * (`serve` included): where the database is, the master secret, the key policy, the log level.
 * @module
 */
import { type Alg, ALGS, isAlg } from "../core/key_material.ts";
import { describeBackends, findBackend } from "../store/registry.ts";
import { duration, envSecret, Invalid, type LogLevel, oneOf, setting } from "./define.ts";

/** Default SQLite file, in the working directory (the course grader opens it there; docs/storage.md). */
export const DEFAULT_DB = "./totally_not_my_privateKeys.db";

/** The database settings. */
export const DATABASE_SETTINGS = Object.freeze({
  db: setting({
    flag: "db",
    env: ["JWKS_DB", "DATABASE_URL"],
    arg: "PATH|URL",
    help: `SQLite file, :memory:, or postgres://… (default ${DEFAULT_DB})`,
    scope: "db",
    fallback: DEFAULT_DB,
    parse: (text) => {
      if (findBackend(text) === null) throw new Invalid(`expected ${describeBackends()}`, false);
      return text;
    },
  }),
  masterSecret: envSecret(
    "NOT_MY_KEY",
    "master secret sealing private keys (unset: generated into <db>.secret, development only)",
  ),
  previousSecret: envSecret(
    "NOT_MY_KEY_PREVIOUS",
    "the master secret before a rotation: keys still sealed with it open, and serve re-seals them",
  ),
  newSecret: envSecret("NEW_NOT_MY_KEY", "the master secret to move to; read only by secret rotate"),
  tokenTtl: setting({
    flag: "token-ttl",
    env: ["TOKEN_TTL"],
    arg: "DURATION",
    help: "lifetime of issued tokens (default 15m)",
    scope: "db",
    fallback: 900,
    parse: duration(1),
  }),
  alg: setting<Alg>({
    flag: "alg",
    env: ["JWKS_ALG"],
    arg: "ALG",
    help: `algorithm of new keys: ${ALGS.join(", ")} (default RS256)`,
    scope: "db",
    fallback: "RS256",
    parse: (text) => {
      if (!isAlg(text)) throw new Invalid(`expected one of ${ALGS.join(", ")}`);
      return text;
    },
  }),
  rotationInterval: setting({
    flag: "rotate-every",
    env: ["ROTATION_INTERVAL"],
    arg: "DURATION",
    help: "how long each key signs (default 24h, at least 60s)",
    scope: "db",
    fallback: 86_400,
    parse: duration(60),
  }),
  clockSkew: setting({
    flag: "clock-skew",
    env: ["CLOCK_SKEW"],
    arg: "DURATION",
    help: "clock skew tolerated between us and verifiers (default 60s)",
    scope: "db",
    fallback: 60,
    parse: duration(0),
  }),
  retention: setting({
    flag: "key-retention",
    env: ["KEY_RETENTION"],
    arg: "DURATION",
    help: "how long expired keys are kept before they are purged (default 7d)",
    scope: "db",
    fallback: 7 * 86_400,
    parse: duration(0),
  }),
  logLevel: setting<LogLevel>({
    flag: "log-level",
    env: ["LOG_LEVEL"],
    arg: "LEVEL",
    help: "debug, info, warn or error (default info)",
    scope: "db",
    fallback: "info",
    parse: (text) =>
      oneOf(["debug", "info", "warn", "error"] as const, "debug, info, warn or error")(text.toLowerCase()),
  }),
});
