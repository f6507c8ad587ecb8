/**
 * The settings only `serve` takes: where it listens and the limits of its connections, who may
 * log in, proxies, rate limits, seeded users, the admin token and password hashing.
 * @module
 */
import { parseBoolean, parseDuration, parseRateLimit, type RateLimit } from "../core/units.ts";
import { type Cidr, parseCidr } from "../http/client_ip.ts";
import type { LoginBackoffPolicy } from "../users/backoff.ts";
import type { AuthMode } from "../users/login.ts";
import { duration, integer, Invalid, millis, oneOf, type SeedUser, setting } from "./define.ts";

/** How the server writes its log: a banner and readable lines on a terminal, or JSON lines. */
export type LogFormat = "auto" | "json" | "text";

/** The addresses `--trust-proxy loopback` stands for. */
const LOOPBACK = ["127.0.0.0/8", "::1"];

/** The serving settings. */
export const SERVING_SETTINGS = Object.freeze({
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
  maxConnections: setting<number | null>({
    flag: "max-connections",
    env: ["MAX_CONNECTIONS"],
    arg: "N|auto",
    help: "open connections at most; past it idle ones make room or new ones are shed (default auto: " +
      "the descriptor limit - 128, at most 4096)",
    scope: "serve",
    fallback: null,
    parse: (text) => text.trim().toLowerCase() === "auto" ? null : integer(1, 1_000_000)(text),
  }),
  headerTimeout: setting({
    flag: "header-timeout",
    env: ["HEADER_TIMEOUT"],
    arg: "DURATION",
    help: "time a new connection has to send its first request head (default 10s)",
    scope: "serve",
    fallback: 10_000,
    parse: millis(100),
  }),
  idleTimeout: setting({
    flag: "idle-timeout",
    env: ["IDLE_TIMEOUT"],
    arg: "DURATION",
    help: "time a keep-alive connection may sit idle between requests (default 30s)",
    scope: "serve",
    fallback: 30_000,
    parse: millis(100),
  }),
  bodyTimeout: setting({
    flag: "body-timeout",
    env: ["BODY_TIMEOUT"],
    arg: "DURATION",
    help: "time a request body has to arrive in full before 408 (default 10s)",
    scope: "serve",
    fallback: 10_000,
    parse: millis(100),
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
  trustProxy: setting<readonly Cidr[]>({
    flag: "trust-proxy",
    env: ["TRUST_PROXY"],
    arg: "CIDRS",
    help: "proxies whose X-Forwarded-For is believed: addresses or CIDRs, comma-separated, or loopback (default none)",
    scope: "serve",
    fallback: Object.freeze([]),
    parse: (text) => {
      const value = text.trim().toLowerCase();
      if (value === "" || parseBoolean(value) === false || value === "none") return Object.freeze([]);
      // "true" meant "believe the header" before proxies were named: the proxy on this host.
      const names = value === "loopback" || parseBoolean(value) === true ? LOOPBACK : value.split(",");
      const blocks = names.map((name) => parseCidr(name));
      if (blocks.some((block) => block === null)) {
        throw new Invalid('expected addresses or CIDRs such as "10.0.0.0/8,::1", or "loopback"');
      }
      return Object.freeze(blocks as Cidr[]);
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
  seedUsersFile: setting<string | null>({
    flag: "seed-users-file",
    env: ["JWKS_SEED_USERS_FILE"],
    arg: "FILE",
    help:
      "create or reset the users in FILE at start: NAME:PASSWORD lines, mode 0600 (keeps passwords off the command line)",
    scope: "serve",
    fallback: null,
    parse: (text) => {
      if (text.trim() === "") throw new Invalid("expected a file path");
      return text;
    },
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
  authLogRetention: setting<number | null>({
    flag: "auth-log-retention",
    env: ["AUTH_LOG_RETENTION"],
    arg: "DURATION|off",
    help: "how long auth_logs rows are kept; older ones are deleted in the background (default 90d)",
    scope: "serve",
    fallback: 90 * 86_400,
    parse: (text) => text.trim().toLowerCase() === "off" ? null : duration(60)(text),
  }),
  logFormat: setting<LogFormat>({
    flag: "log-format",
    env: ["LOG_FORMAT"],
    arg: "auto|json|text",
    help: "auto: a banner and readable lines on a terminal, JSON lines otherwise (default auto)",
    scope: "serve",
    fallback: "auto",
    parse: (text) => oneOf(["auto", "json", "text"] as const, "auto, json or text")(text.toLowerCase()),
  }),
  hashQueuePerIp: setting<number | null>({
    flag: "hash-queue-per-ip",
    env: ["HASH_QUEUE_PER_IP"],
    arg: "N",
    help:
      "logins one client IP may have waiting for hashing (default: --hash-queue; a full queue makes room for new IPs)",
    scope: "serve",
    fallback: null,
    parse: integer(1, 100_000),
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
