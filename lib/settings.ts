/**
 * Configuration: flags over environment over `.env` over defaults, validated once into a frozen
 * {@linkcode Config}. Every error names the setting the way the user wrote it (`--port`, `PORT`
 * or `PORT in .env`) and never echoes a secret. Reads nothing itself: `main.ts` passes in the
 * parsed flags, the environment and the `.env` text.
 * @module
 */
import { ConfigError } from "./core/errors.ts";
import { type LifecyclePolicy, lifecyclePolicy } from "./core/key_lifecycle.ts";
import { type Alg, ALGS, isAlg } from "./core/key_material.ts";
import { describeBackends, findBackend } from "./store/registry.ts";

/** How `POST /auth` treats credentials. */
export type AuthMode = "open" | "password";
/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A sliding-window rate limit: `limit` requests per `windowMs`. */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

/** Per-username backoff: `freeFailures` free, then `baseMs` doubling up to `maxMs`. */
export interface LoginBackoffPolicy {
  readonly freeFailures: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** A user created or updated at start. */
export interface SeedUser {
  readonly username: string;
  readonly password: string;
}

/** The validated configuration. */
export interface Config {
  readonly port: number;
  readonly hostname: string;
  /** SQLite path, `:memory:`, or a `postgres://` URL. */
  readonly db: string;
  readonly authMode: AuthMode;
  /** `NOT_MY_KEY`, or null to use the generated development secret. */
  readonly masterSecret: string | null;
  readonly issuer: string;
  /** Whether the issuer was configured (rather than derived from host and port). */
  readonly issuerSet: boolean;
  /** `aud` claim of issued tokens, or null. */
  readonly audience: string | null;
  readonly trustProxy: boolean;
  /** Rate limit of `POST /auth` per client IP, or null when off. */
  readonly rateLimit: RateLimit | null;
  /** `memory`, or a `redis://` URL. */
  readonly rateLimitStore: string;
  readonly seedUsers: readonly SeedUser[];
  /** Bearer token of the admin API, or null when the admin API is off. */
  readonly adminToken: string | null;
  readonly logLevel: LogLevel;
  /** Password hashes computed at once, or null for "cores - 1, at least 1". */
  readonly hashConcurrency: number | null;
  /** Logins allowed to wait for a hashing slot before `503`. */
  readonly hashQueue: number;
  /** Per-username brute-force backoff, or null when off. */
  readonly loginBackoff: LoginBackoffPolicy | null;
  /** Key lifecycle timing and algorithm. */
  readonly policy: LifecyclePolicy;
}

/** Flags as parsed from the command line; unknown names are ignored. */
export type Flags = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/**
 * Every environment variable the program reads. `main.ts` reads exactly these (so the compiled
 * binary can be granted `--allow-env` for these names only); keep the `compile` task in step.
 */
export const ENV_VARS: readonly string[] = Object.freeze([
  "PORT",
  "HOST",
  "JWKS_DB",
  "DATABASE_URL",
  "AUTH_MODE",
  "NOT_MY_KEY",
  "JWKS_ISSUER",
  "JWKS_AUDIENCE",
  "TOKEN_TTL",
  "JWKS_ALG",
  "ROTATION_INTERVAL",
  "CLOCK_SKEW",
  "KEY_RETENTION",
  "TRUST_PROXY",
  "RATE_LIMIT",
  "RATE_LIMIT_STORE",
  "JWKS_SEED_USERS",
  "HASH_CONCURRENCY",
  "ADMIN_TOKEN",
  "LOG_LEVEL",
  "HASH_QUEUE",
  "LOGIN_BACKOFF",
]);

/** Default SQLite file, in the working directory (the course grader opens it there). */
export const DEFAULT_DB = "./totally_not_my_privateKeys.db";

/** One setting: its flag, its environment variable, and how to say where a value came from. */
interface Source {
  readonly value: string;
  readonly name: string;
}

/** Parses the text of a `.env` file: `KEY=value` lines, `#` comments, optional quotes and `export`. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replaceAll("\\n", "\n").replaceAll('\\"', '"');
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    out[match[1]!] = value;
  }
  return out;
}

/**
 * Parses a duration: a whole number with an optional unit `ms`, `s`, `m`, `h` or `d` (seconds
 * when bare). Returns seconds, or null when the text is not a duration.
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) return null;
  const n = Number(match[1]);
  const unit = match[2] ?? "s";
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[unit]!;
  return n * factor;
}

/** Parses `N/s`, `N/m`, `N/h`, `N/500ms` or `off` into a {@linkcode RateLimit}. */
export function parseRateLimit(text: string): RateLimit | null | undefined {
  const value = text.trim().toLowerCase();
  if (value === "off" || value === "none" || value === "0") return null;
  const match = /^(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h)$/.exec(value);
  if (match === null) return undefined;
  const limit = Number(match[1]);
  const windowMs = Number(match[2] || "1") * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[3] as "s"];
  if (limit < 1 || windowMs < 1) return undefined;
  return { limit, windowMs };
}

function parseBoolean(text: string): boolean | undefined {
  const value = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off", ""].includes(value)) return false;
  return undefined;
}

/**
 * Builds the {@linkcode Config} from flags, the process environment and the `.env` file's
 * variables (already parsed). Throws {@linkcode ConfigError} naming the first bad setting.
 */
export function loadConfig(
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
  dotenv: Readonly<Record<string, string>> = {},
): Config {
  const pick = (flag: string | null, ...vars: string[]): Source | null => {
    const flagValue = flag === null ? undefined : flags[flag];
    if (typeof flagValue === "string") return { value: flagValue, name: `--${flag}` };
    if (typeof flagValue === "boolean") return { value: String(flagValue), name: `--${flag}` };
    if (Array.isArray(flagValue) && flagValue.length > 0) return { value: flagValue.join(","), name: `--${flag}` };
    for (const name of vars) {
      const value = env[name];
      if (value !== undefined && value !== "") return { value, name };
    }
    for (const name of vars) {
      const value = dotenv[name];
      if (value !== undefined && value !== "") return { value, name: `${name} in .env` };
    }
    return null;
  };
  const fail = (source: Source, why: string, show = true): never => {
    throw new ConfigError(`Invalid ${source.name}${show ? ` "${source.value}"` : ""}: ${why}`);
  };
  const duration = (flag: string, variable: string, fallback: number, min: number): number => {
    const source = pick(flag, variable);
    if (source === null) return fallback;
    const seconds = parseDuration(source.value);
    if (seconds === null) return fail(source, "expected a duration such as 900, 15m, 1h or 7d");
    if (seconds < min) return fail(source, `must be at least ${min} seconds`);
    return seconds;
  };

  const portSource = pick("port", "PORT");
  const port = portSource === null ? 8080 : Number(portSource.value);
  if (portSource !== null && !(/^\d+$/.test(portSource.value) && port <= 65535)) {
    fail(portSource, "expected an integer from 0 to 65535");
  }
  const hostnameSource = pick("hostname", "HOST");
  const hostname = hostnameSource?.value ?? "127.0.0.1";
  if (hostnameSource !== null && !/^[A-Za-z0-9.:\-\[\]]+$/.test(hostname)) {
    fail(hostnameSource, "expected a host name or IP address");
  }

  const dbSource = pick("db", "JWKS_DB", "DATABASE_URL");
  const db = dbSource?.value ?? DEFAULT_DB;
  if (dbSource !== null && findBackend(db) === null) fail(dbSource, `expected ${describeBackends()}`, false);

  const authSource = pick("auth", "AUTH_MODE");
  const authMode = (authSource?.value ?? "password") as AuthMode;
  if (authSource !== null && authMode !== "open" && authMode !== "password") {
    fail(authSource, 'expected "open" or "password"');
  }

  const secretSource = pick(null, "NOT_MY_KEY");
  const masterSecret = secretSource?.value ?? null;

  const tokenTtl = duration("token-ttl", "TOKEN_TTL", 900, 1);
  const rotationInterval = duration("rotate-every", "ROTATION_INTERVAL", 86_400, 60);
  const clockSkew = duration("clock-skew", "CLOCK_SKEW", 60, 0);
  const retention = duration("key-retention", "KEY_RETENTION", 7 * 86_400, 0);

  const algSource = pick("alg", "JWKS_ALG");
  const alg: Alg = isAlg(algSource?.value) ? algSource.value : "RS256";
  if (algSource !== null && !isAlg(algSource.value)) fail(algSource, `expected one of ${ALGS.join(", ")}`);

  const issuerSource = pick("issuer", "JWKS_ISSUER");
  const displayHost = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  const issuer = issuerSource?.value ?? `http://${displayHost === "0.0.0.0" ? "127.0.0.1" : displayHost}:${port}`;
  if (issuerSource !== null && !URL.canParse(issuer)) fail(issuerSource, "expected a URL");
  const audience = pick("audience", "JWKS_AUDIENCE")?.value ?? null;

  const trustSource = pick("trust-proxy", "TRUST_PROXY");
  const trustProxy = trustSource === null ? false : parseBoolean(trustSource.value);
  if (trustProxy === undefined) return fail(trustSource!, "expected true or false");

  const rateSource = pick("rate-limit", "RATE_LIMIT");
  const rateLimit = rateSource === null ? { limit: 10, windowMs: 1000 } : parseRateLimit(rateSource.value);
  if (rateLimit === undefined) return fail(rateSource!, 'expected N/s, N/m, N/h (for example 10/s) or "off"');

  const storeSource = pick("rate-limit-store", "RATE_LIMIT_STORE");
  const rateLimitStore = storeSource?.value ?? "memory";
  if (storeSource !== null && rateLimitStore !== "memory" && !/^rediss?:\/\//.test(rateLimitStore)) {
    fail(storeSource, 'expected "memory" or a redis:// URL', false);
  }

  const seedSource = pick("seed-user", "JWKS_SEED_USERS");
  const seedUsers: SeedUser[] = [];
  for (const entry of seedSource === null ? [] : seedSource.value.split(",")) {
    const colon = entry.indexOf(":");
    const username = entry.slice(0, colon).trim();
    const password = entry.slice(colon + 1);
    if (colon <= 0 || username === "" || password === "") {
      fail(seedSource!, "expected NAME:PASSWORD entries (the value is not shown because it holds passwords)", false);
    }
    seedUsers.push(Object.freeze({ username, password }));
  }

  const adminSource = pick(null, "ADMIN_TOKEN");
  if (adminSource !== null && adminSource.value.length < 16) {
    fail(adminSource, "must be at least 16 characters", false);
  }

  const levelSource = pick("log-level", "LOG_LEVEL");
  const logLevel = (levelSource?.value.toLowerCase() ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    fail(levelSource!, "expected debug, info, warn or error");
  }

  const hashSource = pick("hash-concurrency", "HASH_CONCURRENCY");
  const hashConcurrency = hashSource === null ? null : Number(hashSource.value);
  if (hashSource !== null && !(/^\d+$/.test(hashSource.value) && hashConcurrency! >= 1 && hashConcurrency! <= 64)) {
    fail(hashSource, "expected an integer from 1 to 64");
  }

  const queueSource = pick("hash-queue", "HASH_QUEUE");
  const hashQueue = queueSource === null ? 64 : Number(queueSource.value);
  if (queueSource !== null && !(/^\d+$/.test(queueSource.value) && hashQueue <= 100_000)) {
    fail(queueSource, "expected an integer from 0 to 100000");
  }

  const backoffSource = pick("login-backoff", "LOGIN_BACKOFF");
  let loginBackoff: LoginBackoffPolicy | null = { freeFailures: 5, baseMs: 1000, maxMs: 15 * 60_000 };
  if (backoffSource !== null) {
    if (backoffSource.value.trim().toLowerCase() === "off") {
      loginBackoff = null;
    } else {
      const parts = backoffSource.value.split(",").map((part) => part.trim());
      const free = Number(parts[0]);
      const base = parseDuration(parts[1] ?? "");
      const max = parseDuration(parts[2] ?? "");
      if (parts.length !== 3 || !/^\d+$/.test(parts[0]!) || base === null || max === null || base <= 0 || max < base) {
        fail(backoffSource, 'expected FREE,BASE,MAX such as "5,1s,15m", or "off"');
      }
      loginBackoff = { freeFailures: free, baseMs: base! * 1000, maxMs: max! * 1000 };
    }
  }

  let policy: LifecyclePolicy;
  try {
    policy = lifecyclePolicy({ rotationInterval, tokenTtl, clockSkew, retention, alg });
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }

  return Object.freeze({
    port,
    hostname,
    db,
    authMode,
    masterSecret,
    issuer: issuer.replace(/\/+$/, ""),
    issuerSet: issuerSource !== null,
    audience,
    trustProxy,
    rateLimit: rateLimit === null ? null : Object.freeze(rateLimit),
    rateLimitStore,
    seedUsers: Object.freeze(seedUsers),
    adminToken: adminSource?.value ?? null,
    logLevel,
    hashConcurrency,
    hashQueue,
    loginBackoff: loginBackoff === null ? null : Object.freeze(loginBackoff),
    policy,
  });
}
