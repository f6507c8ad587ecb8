/**
 * The one-shot commands: `keys list|rotate|revoke|import` and `users add` on the server's
 * database, and the JWT client `keygen`, `sign` and `verify`. Each prints its result to stdout
 * (`--json` where scripts need it) and throws an `AppError` for anything that goes wrong; the
 * caller prints that as one line on stderr with {@linkcode exitCodeOf}'s code. `serve` is not
 * here: it is `main.ts`'s wiring. The environment, clock, stdin and output come in through
 * {@linkcode CommandIo}.
 * @module
 */
import { argon2Hasher } from "../users/argon2.ts";
import { openStore } from "../app.ts";
import type { Command } from "./parse.ts";
import { type Config, type Flags, loadConfig, parseDuration } from "../settings.ts";
import { createSealer, type Sealer } from "../core/seal.ts";
import { AppError } from "../core/errors.ts";
import {
  describeChange,
  importKey,
  type KeyInfo,
  type KeyReport,
  listKeyInfo,
  revokeKey,
  rotateKeys,
} from "../keys/key_reports.ts";
import { type KeyFileFormat, keyMaterialFromText, parsePrivateKey, privateKeyText } from "../keys/key_files.ts";
import { KeyManager } from "../keys/key_manager.ts";
import {
  type Alg,
  ALGS,
  defaultAlgFor,
  generateKeyMaterial,
  importSigningKey,
  isAlg,
  type KeyMaterial,
  materialFromJwk,
} from "../core/key_material.ts";
import { withMasterSecret } from "../store/master_secret.ts";
import { backendFor } from "../store/registry.ts";
import type { Store } from "../store/ports.ts";
import { signClaims } from "../core/tokens.ts";
import { type Hasher, UserService } from "../users/users.ts";
import { JWKS_FAILURES, verifyRemote } from "./verify_remote.ts";

/** What a command may touch outside itself. */
export interface CommandIo {
  /** The environment variables (only those the program reads). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Variables from `.env`, when present. */
  readonly dotenv?: Readonly<Record<string, string>>;
  /** Unix milliseconds now. */
  readonly clock: () => number;
  /** Writes command output to stdout. */
  write(text: string): void;
  /** Writes one warning line to stderr. */
  warn(line: string): void;
  /** Reads all of stdin (empty when stdin is a terminal or closed). */
  readStdin(): Promise<string>;
  /** For `verify`; the global `fetch` by default. */
  readonly fetch?: typeof fetch;
  /** For `users add`; Argon2id by default. */
  readonly hasher?: Hasher;
  /** Key generation, for tests; real keys by default. */
  readonly generate?: (alg: Alg) => Promise<KeyMaterial>;
}

/** The exit code for a failure: 2 for usage and configuration errors, 1 for everything else. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof AppError && ["usage", "invalid_config", "invalid_field"].includes(error.code)) return 2;
  return 1;
}

function usage(command: Command, message: string): AppError {
  return new AppError("usage", `${message} (see "jwks-server ${command.name} --help")`);
}

function stringFlag(command: Command, name: string): string | undefined {
  const value = command.flags[name];
  return typeof value === "string" ? value : undefined;
}

function requiredFlag(command: Command, name: string, what: string): string {
  const value = stringFlag(command, name);
  if (value === undefined || value === "") throw usage(command, `Missing --${name} ${what}`);
  return value;
}

function algFlag(command: Command): Alg | undefined {
  const value = stringFlag(command, "alg");
  if (value === undefined) return undefined;
  if (!isAlg(value)) throw usage(command, `Invalid --alg "${value}": expected one of ${ALGS.join(", ")}`);
  return value;
}

function durationFlag(command: Command, name: string, fallback: number, allowZero = false): number {
  const value = stringFlag(command, name);
  if (value === undefined) return fallback;
  const seconds = parseDuration(value);
  if (seconds === null || seconds < 0 || (seconds === 0 && !allowZero)) {
    throw usage(command, `Invalid --${name} "${value}": expected a duration such as 30s, 15m or 1h`);
  }
  return seconds;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** Reads a file named on the command line (`-` is stdin), with one-line errors. */
async function readInput(path: string, io: CommandIo, what: string): Promise<string> {
  if (path === "-") return await io.readStdin();
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new AppError("not_found", `${what} "${path}" does not exist`);
    if (error instanceof Deno.errors.IsADirectory) {
      throw new AppError("bad_request", `${what} "${path}" is a directory`);
    }
    if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
      throw new AppError("forbidden", `${what} "${path}" is not readable`);
    }
    throw error;
  }
}

// --- Commands on the server's database ----------------------------------------------------

interface Opened {
  readonly config: Config;
  readonly store: Store;
  readonly sealer: Sealer;
}

/**
 * Opens the database the server uses, with the same configuration rules. `mustExist`: fail
 * rather than create a new database (for commands that only make sense on existing keys).
 */
async function withDatabase<T>(
  command: Command,
  io: CommandIo,
  options: { mustExist: boolean; flags?: Flags },
  run: (opened: Opened) => Promise<T>,
): Promise<T> {
  const config = loadConfig(options.flags ?? command.flags, io.env, io.dotenv ?? {});
  if (config.db === ":memory:") {
    throw usage(command, 'The database ":memory:" would vanish when the command ends; name a file with --db');
  }
  if (options.mustExist && backendFor(config.db).isFile(config.db)) {
    try {
      Deno.statSync(config.db);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new AppError("not_found", `No database at "${config.db}"; check --db or JWKS_DB`);
    }
  }
  const { value: opened, secret } = await withMasterSecret(config, async (masterSecret) => {
    const sealer = createSealer(masterSecret);
    return { sealer, store: await openStore(config, sealer) };
  });
  if (secret.source === "created") {
    io.warn(`Warning: NOT_MY_KEY is not set; generated a DEVELOPMENT master secret in "${secret.file}"`);
  }
  try {
    return await run({ config, ...opened });
  } finally {
    await opened.store.close();
  }
}

function keyManager(opened: Opened, io: CommandIo): KeyManager {
  return new KeyManager({
    store: opened.store,
    sealer: opened.sealer,
    policy: opened.config.policy,
    clock: io.clock,
    ...(io.generate ? { generate: io.generate } : {}),
  });
}

const COLUMNS: readonly [string, (key: KeyInfo) => string][] = [
  ["KID", (key) => key.kid],
  ["ALG", (key) => key.alg],
  ["STATUS", (key) => key.status],
  ["SIGNS FROM", (key) => key.activatesAt],
  ["SIGNS UNTIL", (key) => key.retiresAt],
  ["LEAVES JWKS", (key) => key.expiresAt],
];

/** The keys as an aligned table, for people. */
export function keyTable(keys: readonly KeyInfo[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...keys.map((key) => COLUMNS.map(([, cell]) => cell(key)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

function printReport(command: Command, io: CommandIo, report: KeyReport & { kid?: string }): void {
  if (command.flags.json === true) {
    io.write(json(report));
    return;
  }
  const lines = report.changes.map(describeChange);
  if (lines.length === 0) lines.push("Nothing to change");
  io.write(lines.join("\n") + "\n\n" + keyTable(report.keys));
}

async function keysList(command: Command, io: CommandIo): Promise<number> {
  return await withDatabase(command, io, { mustExist: true }, async ({ config, store }) => {
    const keys = await listKeyInfo(store, Math.floor(io.clock() / 1000));
    if (command.flags.json === true) io.write(json({ keys }));
    else io.write(keys.length === 0 ? `No keys in "${config.db}"\n` : keyTable(keys));
    return 0;
  });
}

async function keysRotate(command: Command, io: CommandIo): Promise<number> {
  return await withDatabase(command, io, { mustExist: false }, async (opened) => {
    printReport(command, io, await rotateKeys(keyManager(opened, io), opened.store));
    return 0;
  });
}

async function keysRevoke(command: Command, io: CommandIo): Promise<number> {
  return await withDatabase(command, io, { mustExist: true }, async (opened) => {
    printReport(command, io, await revokeKey(keyManager(opened, io), opened.store, command.args[0]!));
    return 0;
  });
}

async function keysImport(command: Command, io: CommandIo): Promise<number> {
  // --alg names the imported key's algorithm here, not that of keys the server generates.
  const alg = algFlag(command);
  const { alg: _alg, ...flags } = command.flags;
  const material = await keyMaterialFromText(await readInput(command.args[0]!, io, "Key file"), alg);
  return await withDatabase(command, io, { mustExist: false, flags }, async (opened) => {
    const report = await importKey(keyManager(opened, io), opened.store, material);
    printReport(command, io, { kid: material.kid, ...report });
    return 0;
  });
}

async function usersAdd(command: Command, io: CommandIo): Promise<number> {
  return await withDatabase(command, io, { mustExist: false }, async ({ store }) => {
    const users = new UserService({ store, hasher: io.hasher ?? argon2Hasher() });
    const { user, password } = await users.register(command.args[0], stringFlag(command, "email"), io.clock());
    if (command.flags.json === true) {
      io.write(json({ id: user.id, username: user.username, email: user.email, password }));
    } else {
      io.write(`Created user "${user.username}" (id ${user.id})\nPassword, shown once: ${password}\n`);
    }
    return 0;
  });
}

// --- The JWT client -------------------------------------------------------------------------

async function keygen(command: Command, io: CommandIo): Promise<number> {
  const out = requiredFlag(command, "out", "FILE");
  const alg = algFlag(command) ?? "RS256";
  const formatFlag = stringFlag(command, "format");
  if (formatFlag !== undefined && formatFlag !== "pem" && formatFlag !== "jwk") {
    throw usage(command, `Invalid --format "${formatFlag}": expected pem or jwk`);
  }
  const format: KeyFileFormat = formatFlag ?? (/\.(json|jwk)$/i.test(out) ? "jwk" : "pem");
  const material = await (io.generate ?? generateKeyMaterial)(alg);
  const text = privateKeyText(material, format);
  try {
    // Never let the private key sit in a file others can read, even for a moment.
    if (command.flags.force === true) await Deno.remove(out).catch(() => {});
    await Deno.writeTextFile(out, text, { mode: 0o600, createNew: true });
    await Deno.chmod(out, 0o600);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new AppError("conflict", `"${out}" already exists; use --force to overwrite it`);
    }
    if (error instanceof Deno.errors.NotFound) {
      throw new AppError("not_found", `Cannot write "${out}": its directory does not exist`);
    }
    if (error instanceof Deno.errors.PermissionDenied) throw new AppError("forbidden", `Cannot write "${out}"`);
    throw error;
  }
  io.write(json(material.publicJwk));
  return 0;
}

async function sign(command: Command, io: CommandIo): Promise<number> {
  const path = requiredFlag(command, "key", "FILE");
  const flagAlg = algFlag(command);
  const ttl = durationFlag(command, "ttl", 900);
  let extra: Record<string, unknown> = {};
  const claimsText = stringFlag(command, "claims");
  if (claimsText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(claimsText);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw usage(command, 'Invalid --claims: expected a JSON object such as \'{"sub":"alice"}\'');
    }
    extra = parsed as Record<string, unknown>;
  }
  const jwk = parsePrivateKey(await readInput(path, io, "Key file"));
  const alg = flagAlg ?? defaultAlgFor(jwk);
  const material = await materialFromJwk(jwk, alg);
  const key = await importSigningKey(JSON.parse(new TextDecoder().decode(material.privateBytes)), alg);
  const kid = stringFlag(command, "kid") ?? (typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : material.kid);
  const now = Math.floor(io.clock() / 1000);
  const claims: Record<string, unknown> = { iat: now, exp: now + ttl, jti: crypto.randomUUID() };
  for (const [flag, claim] of [["issuer", "iss"], ["subject", "sub"], ["audience", "aud"]] as const) {
    const value = stringFlag(command, flag);
    if (value !== undefined) claims[claim] = value;
  }
  io.write(await signClaims(key, { alg, kid }, { ...claims, ...extra }) + "\n");
  return 0;
}

async function verify(command: Command, io: CommandIo): Promise<number> {
  const jwksText = requiredFlag(command, "jwks", "URL");
  if (!URL.canParse(jwksText) || !/^https?:$/.test(new URL(jwksText).protocol)) {
    throw usage(command, `Invalid --jwks "${jwksText}": expected an http:// or https:// URL`);
  }
  const clockTolerance = durationFlag(command, "clock-skew", 60, true);
  const timeoutMs = Math.max(1, Math.round(durationFlag(command, "timeout", 5) * 1000));
  const arg = command.args[0];
  const token = (arg === undefined || arg === "-" ? await io.readStdin() : arg).trim();
  if (token === "") throw usage(command, "Missing TOKEN (pass it as an argument or on stdin)");
  const issuer = stringFlag(command, "issuer");
  const audience = stringFlag(command, "audience");
  const alg = stringFlag(command, "alg");
  const outcome = await verifyRemote(token, {
    jwks: new URL(jwksText),
    now: io.clock(),
    clockTolerance,
    timeoutMs,
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
    ...(alg === undefined ? {} : { algorithms: [alg] }),
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
  if (command.flags.json === true) io.write(json(outcome));
  if (!outcome.valid) {
    throw new AppError(JWKS_FAILURES.has(outcome.reason) ? "unavailable" : "unauthorized", outcome.message);
  }
  if (command.flags.json !== true) io.write(json(outcome.claims));
  return 0;
}

const RUNNERS: ReadonlyMap<string, (command: Command, io: CommandIo) => Promise<number>> = new Map([
  ["keys list", keysList],
  ["keys rotate", keysRotate],
  ["keys revoke", keysRevoke],
  ["keys import", keysImport],
  ["users add", usersAdd],
  ["keygen", keygen],
  ["sign", sign],
  ["verify", verify],
]);

/** True when `name` is a one-shot command (everything but `serve`). */
export function isOneShot(name: string): boolean {
  return RUNNERS.has(name);
}

/** Runs a parsed one-shot command. Returns its exit code; throws `AppError` on failure. */
export async function runCommand(command: Command, io: CommandIo): Promise<number> {
  const runner = RUNNERS.get(command.name);
  if (runner === undefined) throw new AppError("usage", `"${command.name}" is not a one-shot command`);
  return await runner(command, io);
}
