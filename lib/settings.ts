/**
 * Every setting, declared once: its flag, its environment variable (also read from `.env`), its
 * default, its parser, its help line and which commands take it. Config parsing, the options
 * and help text of every command, and the `--allow-env` list are all generated from this table.
 * Flags win over the environment, which wins over `.env`; errors name the setting as the user
 * wrote it (`--port`, `PORT` or `PORT in .env`) and never echo a secret. Reads nothing itself.
 * @module
 */
import { parseEnv } from "node:util";
import { ConfigError } from "./core/errors.ts";
import { type LifecyclePolicy, lifecyclePolicy } from "./core/key_lifecycle.ts";
import { type Alg, ALGS, isAlg } from "./core/key_material.ts";
import { parseBoolean, parseDuration, parseRateLimit, type RateLimit } from "./core/units.ts";
import type { LoginBackoffPolicy } from "./users/backoff.ts";
import type { AuthMode } from "./users/login.ts";

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A user created or updated at start. */
export interface SeedUser {
  readonly username: string;
  readonly password: string;
}

/**
 * Which commands take a setting: `serve` only, or every command that opens the database
 * (`db`, which `serve` is one of).
 */
export type Scope = "serve" | "db";

/** A value the parser refuses: `why` follows the setting's name; `show` echoes the value. */
class Invalid extends Error {
  constructor(readonly why: string, readonly show = true) {
    super(why);
  }
}

/** One setting. `T` is its parsed value. */
export interface Setting<T> {
  /** Long flag without `--`; null for a secret that must never be on a command line. */
  readonly flag: string | null;
  readonly short?: string;
  /** Environment variables (and `.env` keys), first found wins. */
  readonly env: readonly string[];
  /** Placeholder of the value in help (`N`, `DURATION`); empty for a boolean flag. */
  readonly arg: string;
  /** One line of help; says the default. */
  readonly help: string;
  readonly scope: Scope;
  /** Repeatable flag (the environment variable is comma-separated). */
  readonly multiple?: boolean;
  /** Never echo the value in an error. */
  readonly secret?: boolean;
  readonly fallback: T;
  /** Parses the text; throws {@linkcode Invalid}. */
  readonly parse: (text: string) => T;
}

const setting = <T>(spec: Setting<T>): Setting<T> => Object.freeze(spec);

function duration(min: number): (text: string) => number {
  return (text) => {
    const seconds = parseDuration(text);
    if (seconds === null) throw new Invalid("expected a duration such as 900, 15m, 1h or 7d");
    if (seconds < min) throw new Invalid(`must be at least ${min} seconds`);
    return seconds;
  };
}

function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new Invalid(`expected an integer from ${min} to ${max}`);
    }
    return value;
  };
}

function oneOf<T extends string>(values: readonly T[], describe: string): (text: string) => T {
  return (text) => {
    if (!(values as readonly string[]).includes(text)) throw new Invalid(`expected ${describe}`);
    return text as T;
  };
}

/** Default SQLite file, in the working directory (the course grader opens it there; docs/storage.md). */
export const DEFAULT_DB = "./totally_not_my_privateKeys.db";

/** True when `db` names a PostgreSQL database (`postgres://` or `postgresql://`), not a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The setting table. Add a setting here and every command, help text and permission follows. */
export const SETTINGS = Object.freeze({
  port: setting({
    flag: "port",
    short: "p",
    env: ["PORT"],
    arg: "N",
    help: "port to listen on (default 8080; 0 picks a free one)",
    scope: "serve",
    fallback: 8080,
    parse: integer(0, 65535),
  }),
  hostname: setting({
    flag: "hostname",
    env: ["HOST"],
    arg: "H",
    help: "address to listen on (default 127.0.0.1)",
    scope: "serve",
    fallback: "127.0.0.1",
    parse: (text) => {
      if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(text)) throw new Invalid("expected a host name or IP address");
      return text;
    },
  }),
  db: setting({
    flag: "db",
    env: ["JWKS_DB", "DATABASE_URL"],
    arg: "PATH|URL",
    help: `SQLite file, :memory:, or postgres://… (default ${DEFAULT_DB})`,
    scope: "db",
    fallback: DEFAULT_DB,
    parse: (text) => {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !isPostgresUrl(text)) {
        throw new Invalid("expected a file path, :memory: or a postgres:// URL", false);
      }
      return text;
    },
  }),
  authMode: setting<AuthMode>({
    flag: "auth",
    env: ["AUTH_MODE"],
    arg: "open|password",
    help: "password: registered users only; open: a mock issuer (default password)",
    scope: "serve",
    fallback: "password",
    parse: oneOf(["open", "password"] as const, '"open" or "password"'),
  }),
  masterSecret: setting<string | null>({
    flag: null,
    env: ["NOT_MY_KEY"],
    arg: "SECRET",
    help: "master secret sealing private keys (unset: generated into <db>.secret, development only)",
    scope: "db",
    secret: true,
    fallback: null,
    parse: (text) => text,
  }),
  issuer: setting<string | null>({
    flag: "issuer",
    env: ["JWKS_ISSUER"],
    arg: "URL",
    help: "iss of issued tokens (default http://HOST:PORT)",
    scope: "serve",
    fallback: null,
    parse: (text) => {
      if (!URL.canParse(text)) throw new Invalid("expected a URL");
      return text.replace(/\/+$/, "");
    },
  }),
  audience: setting<string | null>({
    flag: "audience",
    env: ["JWKS_AUDIENCE"],
    arg: "AUD",
    help: "aud of issued tokens (default none)",
    scope: "serve",
    fallback: null,
    parse: (text) => text,
  }),
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
  trustProxy: setting({
    flag: "trust-proxy",
    env: ["TRUST_PROXY"],
    arg: "",
    help: "believe X-Forwarded-For for the client IP (default off: the socket peer)",
    scope: "serve",
    fallback: false,
    parse: (text) => {
      const value = parseBoolean(text);
      if (value === undefined) throw new Invalid("expected true or false");
      return value;
    },
  }),
  rateLimit: setting<RateLimit | null>({
    flag: "rate-limit",
    env: ["RATE_LIMIT"],
    arg: "N/s|off",
    help: "limit of POST /auth and /register per client IP (default 10/s)",
    scope: "serve",
    fallback: Object.freeze({ limit: 10, windowMs: 1000 }),
    parse: (text) => {
      const value = parseRateLimit(text);
      if (value === undefined) throw new Invalid('expected N/s, N/m, N/h (for example 10/s) or "off"');
      return value === null ? null : Object.freeze(value);
    },
  }),
  rateLimitStore: setting({
    flag: "rate-limit-store",
    env: ["RATE_LIMIT_STORE"],
    arg: "URL",
    help: "memory, or redis://… to share limits between instances (default memory)",
    scope: "serve",
    fallback: "memory",
    parse: (text) => {
      if (text !== "memory" && !/^rediss?:\/\//.test(text)) {
        throw new Invalid('expected "memory" or a redis:// URL', false);
      }
      return text;
    },
  }),
  seedUsers: setting<readonly SeedUser[]>({
    flag: "seed-user",
    env: ["JWKS_SEED_USERS"],
    arg: "NAME:PASS",
    help: "create or reset a user at start (repeatable; the variable is comma-separated)",
    scope: "serve",
    multiple: true,
    secret: true,
    fallback: Object.freeze([]),
    parse: (text) =>
      Object.freeze(
        text.split(",").map((entry) => {
          const colon = entry.indexOf(":");
          const username = entry.slice(0, colon).trim();
          const password = entry.slice(colon + 1);
          if (colon <= 0 || username === "" || password === "") {
            throw new Invalid(
              "expected NAME:PASSWORD entries (the value is not shown because it holds passwords)",
              false,
            );
          }
          return Object.freeze({ username, password });
        }),
      ),
  }),
  adminToken: setting<string | null>({
    flag: null,
    env: ["ADMIN_TOKEN"],
    arg: "TOKEN",
    help: "bearer token of the admin API, at least 16 characters (unset: admin API off)",
    scope: "serve",
    secret: true,
    fallback: null,
    parse: (text) => {
      if (text.length < 16) throw new Invalid("must be at least 16 characters", false);
      return text;
    },
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
  hashConcurrency: setting<number | null>({
    flag: "hash-concurrency",
    env: ["HASH_CONCURRENCY"],
    arg: "N",
    help: "password hashes computed at once (default cores - 1, at least 1)",
    scope: "serve",
    fallback: null,
    parse: integer(1, 64),
  }),
  hashQueue: setting({
    flag: "hash-queue",
    env: ["HASH_QUEUE"],
    arg: "N",
    help: "logins waiting for a hashing slot before 503 (default 64)",
    scope: "serve",
    fallback: 64,
    parse: integer(0, 100_000),
  }),
  loginBackoff: setting<LoginBackoffPolicy | null>({
    flag: "login-backoff",
    env: ["LOGIN_BACKOFF"],
    arg: "F,B,M",
    help: 'F free failures per username, then B doubling up to M, or "off" (default 5,1s,15m)',
    scope: "serve",
    fallback: Object.freeze({ freeFailures: 5, baseMs: 1000, maxMs: 15 * 60_000 }),
    parse: (text) => {
      if (text.trim().toLowerCase() === "off") return null;
      const parts = text.split(",").map((part) => part.trim());
      const base = parseDuration(parts[1] ?? "");
      const max = parseDuration(parts[2] ?? "");
      if (parts.length !== 3 || !/^\d+$/.test(parts[0]!) || base === null || max === null || base <= 0 || max < base) {
        throw new Invalid('expected FREE,BASE,MAX such as "5,1s,15m", or "off"');
      }
      return Object.freeze({ freeFailures: Number(parts[0]), baseMs: base * 1000, maxMs: max * 1000 });
    },
  }),
});

type Table = typeof SETTINGS;
/** The parsed value of every setting. */
export type Values = { readonly [K in keyof Table]: Table[K] extends Setting<infer T> ? T : never };

/** The validated configuration: every setting, plus what is derived from them. */
export interface Config extends Omit<Values, "issuer"> {
  /** `iss` of issued tokens: configured, or derived from host and port. */
  readonly issuer: string;
  /** Whether the issuer was configured (rather than derived from host and port). */
  readonly issuerSet: boolean;
  /** Key lifecycle timing and algorithm. */
  readonly policy: LifecyclePolicy;
}

/** Flags as parsed from the command line; unknown names are ignored. */
export type Flags = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/** The settings a command of `scope` takes: `serve` takes them all, the others the `db` ones. */
export function settingsFor(scope: Scope): [keyof Table, Setting<unknown>][] {
  return (Object.entries(SETTINGS) as [keyof Table, Setting<unknown>][])
    .filter(([, spec]) => scope === "serve" || spec.scope === "db");
}

/** Every environment variable the program reads (for the compiled binary's `--allow-env`). */
export const ENV_VARS: readonly string[] = Object.freeze(Object.values(SETTINGS).flatMap((spec) => spec.env));

/** Parses the text of a `.env` file (`node:util`'s parser: comments, quotes, `export`). */
export function parseDotenv(text: string): Record<string, string> {
  return { ...parseEnv(text) } as Record<string, string>;
}

/**
 * Builds the {@linkcode Config} from a command's flags, the process environment and the `.env`
 * file's variables. Every setting is read and checked, also by commands that take only some of
 * them as flags: a command on the database fails on the same bad setting the server would.
 * Throws {@linkcode ConfigError} naming the first bad setting.
 */
export function loadConfig(
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
  dotenv: Readonly<Record<string, string>> = {},
): Config {
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [key, spec] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    values[key] = spec.fallback;
    const source = pick(spec, flags, env, dotenv);
    if (source === null) continue;
    given.add(key);
    try {
      values[key] = spec.parse(source.value);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      const shown = error.show && !spec.secret ? ` "${source.value}"` : "";
      throw new ConfigError(`Invalid ${source.name}${shown}: ${error.why}`);
    }
  }
  const v = values as unknown as Values;
  const host = v.hostname.includes(":") && !v.hostname.startsWith("[") ? `[${v.hostname}]` : v.hostname;
  let policy: LifecyclePolicy;
  try {
    const { rotationInterval, tokenTtl, clockSkew, retention, alg } = v;
    policy = lifecyclePolicy({ rotationInterval, tokenTtl, clockSkew, retention, alg });
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  return Object.freeze({
    ...v,
    issuer: v.issuer ?? `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${v.port}`,
    issuerSet: given.has("issuer"),
    policy,
  });
}

function pick(
  spec: Setting<unknown>,
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
  dotenv: Readonly<Record<string, string>>,
): { value: string; name: string } | null {
  const flag = spec.flag === null ? undefined : flags[spec.flag];
  if (typeof flag === "string") return { value: flag, name: `--${spec.flag}` };
  if (typeof flag === "boolean") return { value: String(flag), name: `--${spec.flag}` };
  if (Array.isArray(flag) && flag.length > 0) return { value: flag.join(","), name: `--${spec.flag}` };
  for (const name of spec.env) {
    const value = env[name];
    if (value !== undefined && value !== "") return { value, name };
  }
  for (const name of spec.env) {
    const value = dotenv[name];
    if (value !== undefined && value !== "") return { value, name: `${name} in .env` };
  }
  return null;
}

/** The help lines of the settings a command of `scope` takes, aligned. */
export function settingsHelp(scope: Scope): string {
  const rows = settingsFor(scope).map(([, spec]) => {
    const flag = spec.flag === null
      ? "(environment only)"
      : `${spec.short ? `-${spec.short}, ` : "    "}--${spec.flag}${spec.arg ? ` ${spec.arg}` : ""}`;
    return [flag, spec.env.join(", "), spec.help];
  });
  const w0 = Math.max(...rows.map((row) => row[0]!.length));
  const w1 = Math.max(...rows.map((row) => row[1]!.length));
  return rows.map(([a, b, c]) => `  ${a!.padEnd(w0)}  ${b!.padEnd(w1)}  ${c}`).join("\n");
}
