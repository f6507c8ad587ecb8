/**
 * The command line: argv → a command with its flags, and the help text of every command.
 * Parsing only; `serve` is `main.ts`'s wiring and the other commands live in `commands.ts`.
 * Usage errors throw `AppError("usage")` (exit code 2).
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { AppError } from "../core/errors.ts";

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

function dbHelp(alg = true): string {
  return [
    "Database options (flag, then environment variable, then default; use the server's settings):",
    "      --db PATH              JWKS_DB          ./totally_not_my_privateKeys.db",
    ...(alg ? ["      --alg ALG              JWKS_ALG         RS256 (algorithm of newly generated keys)"] : []),
    "      --rotate-every DUR     ROTATION_INTERVAL 24h",
    "      --token-ttl DURATION   TOKEN_TTL        15m",
    "      --clock-skew DUR       CLOCK_SKEW       60s",
    "      --key-retention DUR    KEY_RETENTION    7d",
    "  (environment only)         NOT_MY_KEY       master secret; unset: <db>.secret (dev only)",
  ].join("\n");
}
const DB_HELP = dbHelp();

const KEYS_LIST_HELP = `Usage: jwks-server keys list [--json] [options]

Lists every stored key: kid, algorithm, status (next, active, retired, expired, revoked) and
when it signs and leaves the JWKS. Reads the database; changes nothing.

      --json                 print {"keys": [...]} for scripts

${DB_HELP}`;

const KEYS_ROTATE_HELP = `Usage: jwks-server keys rotate [--json] [options]

Rotates now: the active key hands over to the published next key as soon as that key has been
in the JWKS for max-age + 30 s, and a new next key is published. A running server on the same
database picks the change up within 2 s, without a restart.

      --json                 print {"changes": [...], "keys": [...]}

${DB_HELP}`;

const KEYS_REVOKE_HELP = `Usage: jwks-server keys revoke KID [--json] [options]

Emergency revoke: removes the key KID from the JWKS at once. If it was the signing key, the
next key signs immediately. Tokens it signed stop verifying once verifiers refetch the JWKS.

      --json                 print {"changes": [...], "keys": [...]}

${DB_HELP}`;

const KEYS_IMPORT_HELP = `Usage: jwks-server keys import FILE [--alg ALG] [--json] [options]

Imports a private key (PEM: PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY", SEC1
"EC PRIVATE KEY"; or a private JWK) and schedules it as the next key to sign. It is sealed with
the master secret like a generated key; its kid is its RFC 7638 thumbprint. FILE "-" reads stdin.

      --alg ALG              the key's algorithm: RS256 (default for RSA), PS256, ES256, EdDSA
      --json                 print {"kid": ..., "changes": [...], "keys": [...]}

${dbHelp(false)}`;

const USERS_ADD_HELP = `Usage: jwks-server users add USERNAME [--email E] [--json] [options]

Registers a user with a generated password (a UUID), printed once and stored only as an
Argon2id hash. Fails if the username or email is taken.

      --email E              the user's email address
      --json                 print {"id", "username", "email", "password"}

${DB_HELP}`;

const KEYGEN_HELP = `Usage: jwks-server keygen --out FILE [--alg ALG] [--format pem|jwk] [--force]

Writes a new private key to FILE (mode 0600) and prints its public JWK, whose kid is the key's
RFC 7638 thumbprint (the kid the server will publish after "keys import FILE").

      --out FILE             where to write the private key (required)
      --alg ALG              RS256 (default, RSA 2048), PS256, ES256 or EdDSA
      --format pem|jwk       PKCS#8 PEM (default) or a private JWK (default for *.json, *.jwk)
      --force                overwrite FILE if it exists`;

const SIGN_HELP = `Usage: jwks-server sign --key FILE [options]

Prints a compact JWT signed with the private key in FILE (PEM or JWK). Header: alg, kid,
typ "JWT". Claims: iat, exp (iat + ttl), jti, plus --issuer/--subject/--audience and --claims;
--claims wins over all of them (so {"exp": 1} makes an expired token).

      --key FILE             private key (required)
      --kid K                header kid (default: the JWK's kid, else the key's thumbprint)
      --alg ALG              RS256, PS256, ES256 or EdDSA (default: from the key)
      --claims JSON          claims as a JSON object
      --issuer I             iss claim
      --subject S            sub claim
      --audience A           aud claim
      --ttl DURATION         lifetime, default 15m`;

const VERIFY_HELP = `Usage: jwks-server verify TOKEN --jwks URL [options]

Fetches the JSON Web Key Set the way real consumers do (jose's remote key set: exactly 200,
redirects not followed, a timeout), verifies the signature and the claims, and prints the
claims. On failure prints one line saying why (expired, unknown kid, bad signature, wrong
issuer...) and exits 1. TOKEN "-" (or none) reads the token from stdin.

      --jwks URL             the key set, e.g. http://127.0.0.1:8080/.well-known/jwks.json
      --issuer I             require iss = I
      --audience A           require aud to contain A
      --alg ALG              accept only this algorithm
      --clock-skew DUR       tolerance on exp, nbf and iat, default 60s
      --timeout DUR          how long the JWKS may take, default 5s
      --json                 print {"valid", "header", "claims"} or {"valid": false, "reason", "message"}`;

const MAIN_HELP = `jwks-server: a token issuer that publishes its signing keys as a JSON Web Key Set.

Usage: jwks-server <command> [options]

Commands:
  serve (default)        run the HTTP server
  keys list              list stored keys and their status
  keys rotate            rotate now (a running server picks it up)
  keys revoke KID        remove a key from the JWKS at once
  keys import FILE       import a PEM or JWK private key as the next key
  users add USERNAME     register a user; prints the generated password once
  keygen --out FILE      write a new private key; prints its public JWK
  sign --key FILE        print a JWT signed with a key file
  verify TOKEN --jwks U  verify a JWT against a remote JWKS

Run "jwks-server <command> --help" for the options of a command.
Exit codes: 0 ok, 1 failure, 2 usage or configuration error.

${SERVE_HELP}`;

const KEYS_HELP = `Usage: jwks-server keys list|rotate|revoke KID|import FILE [options]

Key management on the server's database (run "jwks-server keys <command> --help"):
  keys list              list stored keys and their status
  keys rotate            rotate now (a running server picks it up)
  keys revoke KID        remove a key from the JWKS at once
  keys import FILE       import a PEM or JWK private key as the next key`;

const USERS_HELP = `Usage: jwks-server users add USERNAME [--email E]

User management on the server's database (run "jwks-server users add --help").`;

interface Spec {
  readonly options: ParseArgsOptionsConfig;
  readonly help: string;
  /** Names of the positional arguments, for messages. */
  readonly positionals: readonly string[];
  /** How many of them are required. */
  readonly required: number;
}

const JSON_OPTION: ParseArgsOptionsConfig = { "json": { type: "boolean" } };

const COMMANDS: ReadonlyMap<string, Spec> = new Map<string, Spec>([
  ["serve", { options: SERVE_OPTIONS, help: SERVE_HELP, positionals: [], required: 0 }],
  ["keys list", { options: { ...DB_OPTIONS, ...JSON_OPTION }, help: KEYS_LIST_HELP, positionals: [], required: 0 }],
  ["keys rotate", {
    options: { ...DB_OPTIONS, ...JSON_OPTION },
    help: KEYS_ROTATE_HELP,
    positionals: [],
    required: 0,
  }],
  ["keys revoke", {
    options: { ...DB_OPTIONS, ...JSON_OPTION },
    help: KEYS_REVOKE_HELP,
    positionals: ["KID"],
    required: 1,
  }],
  ["keys import", {
    options: { ...DB_OPTIONS, ...JSON_OPTION },
    help: KEYS_IMPORT_HELP,
    positionals: ["FILE"],
    required: 1,
  }],
  ["users add", {
    options: { ...DB_OPTIONS, ...JSON_OPTION, "email": { type: "string" } },
    help: USERS_ADD_HELP,
    positionals: ["USERNAME"],
    required: 1,
  }],
  ["keygen", {
    options: {
      "out": { type: "string", short: "o" },
      "alg": { type: "string" },
      "format": { type: "string" },
      "force": { type: "boolean" },
    },
    help: KEYGEN_HELP,
    positionals: [],
    required: 0,
  }],
  ["sign", {
    options: {
      "key": { type: "string", short: "k" },
      "kid": { type: "string" },
      "alg": { type: "string" },
      "claims": { type: "string" },
      "issuer": { type: "string" },
      "subject": { type: "string" },
      "audience": { type: "string" },
      "ttl": { type: "string" },
    },
    help: SIGN_HELP,
    positionals: [],
    required: 0,
  }],
  ["verify", {
    options: {
      ...JSON_OPTION,
      "jwks": { type: "string" },
      "issuer": { type: "string" },
      "audience": { type: "string" },
      "alg": { type: "string" },
      "clock-skew": { type: "string" },
      "timeout": { type: "string" },
    },
    help: VERIFY_HELP,
    positionals: ["TOKEN"],
    required: 0,
  }],
]);

/** Command groups: a first word that needs a second one. */
const GROUPS: ReadonlyMap<string, string> = new Map([["keys", KEYS_HELP], ["users", USERS_HELP]]);

/** The help text of `name` (the overview for an unknown or empty name). */
export function helpFor(name: string): string {
  return COMMANDS.get(name)?.help ?? GROUPS.get(name) ?? MAIN_HELP;
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
    const second = argv[1];
    const two = `${first} ${second ?? ""}`;
    if (COMMANDS.has(two)) {
      name = two;
      rest = argv.slice(2);
    } else if (COMMANDS.has(first)) {
      name = first;
      rest = argv.slice(1);
    } else if (GROUPS.has(first)) {
      if (second === undefined || second.startsWith("-")) {
        if (second === "--help" || second === "-h") return { name: first, args: [], flags: {}, help: true };
        throw new AppError("usage", `Missing subcommand after "${first}"; run "jwks-server ${first} --help"`);
      }
      throw new AppError("usage", `Unknown command "${first} ${second}"; run "jwks-server ${first} --help"`);
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
  if (parsed.positionals.length > spec.positionals.length) {
    throw new AppError(
      "usage",
      `Unexpected argument "${parsed.positionals[spec.positionals.length]}" (see "jwks-server ${name} --help")`,
    );
  }
  if (parsed.positionals.length < spec.required) {
    throw new AppError(
      "usage",
      `Missing ${spec.positionals[parsed.positionals.length]} (see "jwks-server ${name} --help")`,
    );
  }
  return { name, args: parsed.positionals, flags, help: false };
}
