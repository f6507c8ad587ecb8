/**
 * The command table: every command of `jwks-server`, each with its options, help and runner, in
 * the order the overview lists them. Parsing and help come from `parse.ts`; settings options
 * from `lib/settings.ts`. `serve` runs through `CommandIo.serve`, which `main.ts` wires to the
 * process lifecycle in `lib/server.ts`.
 * @module
 */
import denoConfig from "../../deno.json" with { type: "json" };
import { AppError } from "../core/errors.ts";
import { ALGS } from "../core/key_material.ts";
import { type Config, loadConfig } from "../settings.ts";
import { keygen, sign, verify } from "./jwt.ts";
import { keysImport, keysList, keysRevoke, keysRotate } from "./keys.ts";
import { probe } from "./probe.ts";
import { readSeedUsersFile } from "./seed_users.ts";
import { helpFor as helpIn, parseCommand as parseIn } from "./parse.ts";
import { type Command, type CommandIo, type CommandSpec, JSON_OPTION } from "./spec.ts";
import { usersAdd } from "./users.ts";

/** The version of this build (deno.json's `version`). */
export const VERSION: string = denoConfig.version;

/** What `serve` needs beyond the other commands: the process lifecycle. */
export interface ServeIo extends CommandIo {
  /** Runs the server until it is stopped; resolves with the exit code. */
  serve?(config: Config): Promise<number>;
}

const DB_NOTE = "A running server on the same database picks the change up within 2 s, without a restart.";

/** Every command. */
export const COMMANDS: readonly CommandSpec<ServeIo>[] = Object.freeze([
  {
    name: "serve",
    usage: "[options]",
    summary: "run the HTTP server",
    about: "Runs the token issuer: JWKS at /.well-known/jwks.json, tokens at POST /auth.",
    scope: "serve",
    run: async (command, io) => {
      const loaded = loadConfig(command.flags, io.env, io.dotenv ?? {});
      if (io.serve === undefined) throw new AppError("internal", "This build cannot serve");
      const config = loaded.seedUsersFile === null ? loaded : Object.freeze({
        ...loaded,
        seedUsers: Object.freeze([...loaded.seedUsers, ...await readSeedUsersFile(loaded.seedUsersFile)]),
      });
      return await io.serve(config);
    },
  },
  {
    name: "keys list",
    usage: "[--json] [options]",
    summary: "list stored keys and their status",
    about: "Lists every stored key: kid, algorithm, status (next, active, retired, expired, revoked) and\n" +
      "when it signs and leaves the JWKS. Reads the database; changes nothing.",
    options: JSON_OPTION,
    scope: "db",
    run: keysList,
  },
  {
    name: "keys rotate",
    usage: "[--json] [options]",
    summary: "rotate now (a running server picks it up)",
    about: "Rotates now: the active key hands over to the published next key as soon as that key has\n" +
      `been in the JWKS for max-age + 30 s, and a new next key is published.\n${DB_NOTE}`,
    options: JSON_OPTION,
    scope: "db",
    run: keysRotate,
  },
  {
    name: "keys revoke",
    usage: "KID [--json] [options]",
    summary: "remove a key from the JWKS at once",
    about: "Emergency revoke: removes the key KID from the JWKS at once. If it was the signing key, the\n" +
      "next key signs immediately. Tokens it signed stop verifying once verifiers refetch the JWKS.",
    options: JSON_OPTION,
    scope: "db",
    positionals: ["KID"],
    required: 1,
    run: keysRevoke,
  },
  {
    name: "keys import",
    usage: "FILE [--alg ALG] [--json] [options]",
    summary: "import a PEM or JWK private key as the next key",
    about: 'Imports a private key (PEM: PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY", SEC1\n' +
      '"EC PRIVATE KEY"; or a private JWK) and schedules it as the next key to sign. It is sealed with\n' +
      'the master secret like a generated key; its kid is its RFC 7638 thumbprint. FILE "-" reads stdin.',
    options: {
      alg: { type: "string", arg: "ALG", help: `the key's algorithm: ${ALGS.join(", ")} (default: from the key)` },
      ...JSON_OPTION,
    },
    scope: "db",
    positionals: ["FILE"],
    required: 1,
    run: keysImport,
  },
  {
    name: "users add",
    usage: "USERNAME [--email E] [--json] [options]",
    summary: "register a user; prints the generated password once",
    about: "Registers a user with a generated password (a UUID), printed once and stored only as an\n" +
      "Argon2id hash. Fails if the username or email is taken.",
    options: { email: { type: "string", arg: "E", help: "the user's email address" }, ...JSON_OPTION },
    scope: "db",
    positionals: ["USERNAME"],
    required: 1,
    run: usersAdd,
  },
  {
    name: "keygen",
    usage: "--out FILE [--alg ALG] [--format pem|jwk] [--force]",
    summary: "write a new private key; prints its public JWK",
    about: "Writes a new private key to FILE (mode 0600) and prints its public JWK, whose kid is the key's\n" +
      'RFC 7638 thumbprint (the kid the server will publish after "keys import FILE").',
    options: {
      out: { type: "string", short: "o", arg: "FILE", help: "where to write the private key (required)" },
      alg: { type: "string", arg: "ALG", help: "RS256 (default, RSA 2048), PS256, ES256 or EdDSA" },
      format: {
        type: "string",
        arg: "pem|jwk",
        help: "PKCS#8 PEM (default) or a private JWK (default for *.json, *.jwk)",
      },
      force: { type: "boolean", help: "overwrite FILE if it exists" },
    },
    scope: null,
    run: keygen,
  },
  {
    name: "sign",
    usage: "--key FILE [options]",
    summary: "print a JWT signed with a key file",
    about: "Prints a compact JWT signed with the private key in FILE (PEM or JWK). Header: alg, kid,\n" +
      'typ "JWT". Claims: iat, exp (iat + ttl), jti, plus --issuer/--subject/--audience and --claims;\n' +
      '--claims wins over all of them (so {"exp": 1} makes an expired token).',
    options: {
      key: { type: "string", short: "k", arg: "FILE", help: "private key (required)" },
      kid: { type: "string", arg: "K", help: "header kid (default: the JWK's kid, else the key's thumbprint)" },
      alg: { type: "string", arg: "ALG", help: "RS256, PS256, ES256 or EdDSA (default: from the key)" },
      claims: { type: "string", arg: "JSON", help: "claims as a JSON object" },
      issuer: { type: "string", arg: "I", help: "iss claim" },
      subject: { type: "string", arg: "S", help: "sub claim" },
      audience: { type: "string", arg: "A", help: "aud claim" },
      ttl: { type: "string", arg: "DURATION", help: "lifetime, default 15m" },
    },
    scope: null,
    run: sign,
  },
  {
    name: "verify",
    usage: "TOKEN --jwks URL [options]",
    summary: "verify a JWT against a remote JWKS",
    about: "Fetches the JSON Web Key Set the way real consumers do (jose's remote key set: exactly 200,\n" +
      "redirects not followed, a timeout), verifies the signature and the claims, and prints the\n" +
      "claims. On failure prints one line saying why (expired, unknown kid, bad signature, wrong\n" +
      'issuer, no exp...) and exits 1. TOKEN "-" (or none) reads the token from stdin.',
    options: {
      ...JSON_OPTION,
      jwks: { type: "string", arg: "URL", help: "the key set, e.g. http://127.0.0.1:8080/.well-known/jwks.json" },
      issuer: { type: "string", arg: "I", help: "require iss = I" },
      audience: { type: "string", arg: "A", help: "require aud to contain A" },
      alg: { type: "string", arg: "ALG", help: "accept only this algorithm" },
      "clock-skew": { type: "string", arg: "DURATION", help: "tolerance on exp, nbf and iat, default 60s" },
      timeout: { type: "string", arg: "DURATION", help: "how long the JWKS may take, default 5s" },
      "no-require-exp": { type: "boolean", help: "accept a token without exp (one that never expires)" },
      "max-jwks-size": { type: "string", arg: "SIZE", help: "the largest key set read, default 1MiB" },
    },
    scope: null,
    positionals: ["TOKEN"],
    run: verify,
  },
  {
    name: "probe",
    usage: "URL [options]",
    summary: "prove that an API rejects forged tokens",
    about: "Signs a correct control token and 45 forged ones (alg none, RS256->HS256 confusion, embedded jwk,\n" +
      "jku/x5u, kid injection, ECDSA r = s = 0, expired, wrong aud/iss...) with this server's keys, sends\n" +
      "each to URL as a bearer token, one at a time, and reports which ones the API accepted. Exit 0: all\n" +
      "rejected; 1: a forged token was accepted (or not answered); 2: the control was refused or the\n" +
      "target is unreachable (check --issuer and --audience). See docs/probe.md.",
    options: {
      issuer: { type: "string", arg: "I", help: "the iss the target expects (default: this server's issuer)" },
      audience: { type: "string", arg: "A", help: "the aud the target expects (default: JWKS_AUDIENCE)" },
      method: { type: "string", arg: "M", help: "HTTP method of every request (default GET)" },
      header: { type: "string", multiple: true, arg: "'K: V'", help: "extra request header, repeatable" },
      body: { type: "string", arg: "B", help: "request body sent with every token" },
      "expect-status": { type: "string", arg: "N", help: "status of an accepted request (default 200)" },
      timeout: { type: "string", arg: "DURATION", help: "per-request timeout (default 5s)" },
      ...JSON_OPTION,
    },
    scope: "db",
    positionals: ["URL"],
    required: 1,
    run: probe,
  },
  {
    name: "version",
    usage: "",
    summary: "print the version (also --version)",
    about: "Prints the version of this build.",
    scope: null,
    run: (_command, io) => {
      io.write(`jwks-server ${VERSION}\n`);
      return Promise.resolve(0);
    },
  },
]);

/** Parses argv against {@linkcode COMMANDS}. Throws `AppError("usage")`. */
export function parseCommand(argv: readonly string[]): Command {
  return parseIn(COMMANDS, argv);
}

/** The help text of `name` (the overview for an unknown or empty name). */
export function helpFor(name: string): string {
  return helpIn(COMMANDS, name);
}

/** Runs a parsed command. Returns its exit code; throws `AppError` on failure. */
export async function runCommand(command: Command, io: ServeIo): Promise<number> {
  const spec = COMMANDS.find((entry) => entry.name === command.name);
  if (spec === undefined) throw new AppError("usage", `Unknown command "${command.name}"`);
  return await spec.run(command, io);
}
