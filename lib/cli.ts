/**
 * The command line: argv → a command with its flags, and the help text of every command.
 * Parsing only; running commands is `main.ts`'s wiring. Usage errors throw `AppError("usage")`
 * (exit code 2).
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { AppError } from "./errors.ts";

/** A parsed command line. */
export interface Command {
  /** The command path, e.g. `serve` or `keys rotate`. */
  readonly name: string;
  /** Positional arguments after the command words. */
  readonly args: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | string[] | undefined>>;
  /** `--help` was asked for: print {@linkcode helpFor} and exit 0. */
  readonly help: boolean;
}

/** Options every command that opens the database understands. */
const DB_OPTIONS: ParseArgsOptionsConfig = {
  "db": { type: "string" },
  "alg": { type: "string" },
  "rotate-every": { type: "string" },
  "token-ttl": { type: "string" },
  "clock-skew": { type: "string" },
  "key-retention": { type: "string" },
  "log-level": { type: "string" },
};

const SERVE_OPTIONS: ParseArgsOptionsConfig = {
  ...DB_OPTIONS,
  "port": { type: "string", short: "p" },
  "hostname": { type: "string" },
  "auth": { type: "string" },
  "issuer": { type: "string" },
  "audience": { type: "string" },
  "trust-proxy": { type: "boolean" },
  "rate-limit": { type: "string" },
  "rate-limit-store": { type: "string" },
  "seed-user": { type: "string", multiple: true },
  "hash-concurrency": { type: "string" },
  "hash-queue": { type: "string" },
  "login-backoff": { type: "string" },
};

const SERVE_HELP = `Usage: jwks-server [serve] [options]

Runs the token issuer: JWKS at /.well-known/jwks.json, tokens at POST /auth.

Options (flag, then environment variable, then default):
  -p, --port N               PORT             8080
      --hostname H           HOST             127.0.0.1
      --db PATH|URL          JWKS_DB          ./totally_not_my_privateKeys.db
                             (or DATABASE_URL for postgres://…)
      --auth open|password   AUTH_MODE        password
      --issuer URL           JWKS_ISSUER      http://HOST:PORT
      --audience AUD         JWKS_AUDIENCE    none (no aud claim)
      --token-ttl DURATION   TOKEN_TTL        15m
      --alg ALG              JWKS_ALG         RS256 (RS256, PS256, ES256, EdDSA)
      --rotate-every DUR     ROTATION_INTERVAL 24h (each key signs this long)
      --clock-skew DUR       CLOCK_SKEW       60s
      --key-retention DUR    KEY_RETENTION    7d (expired keys kept before purge)
      --trust-proxy          TRUST_PROXY      off (client IP = socket peer)
      --rate-limit N/s|off   RATE_LIMIT       10/s per client IP on POST /auth
      --rate-limit-store URL RATE_LIMIT_STORE memory (redis://… to share)
      --seed-user NAME:PASS  JWKS_SEED_USERS  none (repeatable; env is comma-separated)
      --hash-concurrency N   HASH_CONCURRENCY cores - 1 (at least 1)
      --hash-queue N         HASH_QUEUE       64 logins waiting for hashing, then 503
      --login-backoff F,B,M  LOGIN_BACKOFF    5,1s,15m (F free failures per username, then
                                              B doubling up to M; "off" disables)
      --log-level LEVEL      LOG_LEVEL        info (debug, info, warn, error)
  (environment only)         NOT_MY_KEY       master secret sealing private keys;
                                              unset: generated into <db>.secret (dev only)
  (environment only)         ADMIN_TOKEN      unset: admin API off

A .env file in the working directory is read when present. Durations: 900, 15m, 1h, 7d.
Exit codes: 0 ok, 1 failure, 2 usage or configuration error.`;

const MAIN_HELP = `jwks-server: a token issuer that publishes its signing keys as a JSON Web Key Set.

Usage: jwks-server <command> [options]

Commands:
  serve (default)   run the HTTP server

Run "jwks-server <command> --help" for the options of a command.

${SERVE_HELP}`;

interface Spec {
  readonly options: ParseArgsOptionsConfig;
  readonly help: string;
  readonly positionals: number;
}

const COMMANDS: ReadonlyMap<string, Spec> = new Map([
  ["serve", { options: SERVE_OPTIONS, help: SERVE_HELP, positionals: 0 }],
]);

/** The help text of `name` (the overview for an unknown or empty name). */
export function helpFor(name: string): string {
  return COMMANDS.get(name)?.help ?? MAIN_HELP;
}

/** Parses argv. Throws `AppError("usage")` with one line saying what is wrong. */
export function parseCommand(argv: readonly string[]): Command {
  const first = argv[0];
  if (first === "--help" || first === "-h" || first === "help") {
    return { name: "", args: [], flags: {}, help: true };
  }
  let name = "serve";
  let rest = argv;
  if (first !== undefined && !first.startsWith("-")) {
    const two = `${first} ${argv[1] ?? ""}`;
    if (COMMANDS.has(two)) {
      name = two;
      rest = argv.slice(2);
    } else if (COMMANDS.has(first)) {
      name = first;
      rest = argv.slice(1);
    } else {
      throw new AppError("usage", `Unknown command "${first}"; run "jwks-server --help" for the list`);
    }
  }
  const spec = COMMANDS.get(name)!;
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...spec.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new AppError(
      "usage",
      `${error instanceof Error ? error.message : String(error)} (see "jwks-server ${name} --help")`,
    );
  }
  const { help, ...flags } = parsed.values;
  if (help === true) return { name, args: parsed.positionals, flags, help: true };
  if (parsed.positionals.length > spec.positionals) {
    throw new AppError(
      "usage",
      `Unexpected argument "${parsed.positionals[spec.positionals]}" (see "jwks-server ${name} --help")`,
    );
  }
  return { name, args: parsed.positionals, flags, help: false };
}
