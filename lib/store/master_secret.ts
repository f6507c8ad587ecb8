/**
 * Finds the master secret that seals private keys, for the server and for the commands that
 * open its database: `NOT_MY_KEY`, or else the development secret in `<db>.secret`, created
 * (mode 0600) when missing and refused when it is a symlink, not a regular file, or readable by
 * anyone but its owner. Opening through {@linkcode withMasterSecret} removes a secret file it
 * just created when the open fails, so a failed start leaves the disk as it was. Logs nothing:
 * callers decide how loudly to warn.
 * @module
 */
import type { Config } from "../settings.ts";
import { randomSecret } from "../core/seal.ts";
import { AppError, hasCode } from "../core/errors.ts";
import { backendFor } from "./registry.ts";

/** Where the master secret came from. */
export type SecretSource = "env" | "file" | "created" | "ephemeral";

/** A resolved master secret. */
export interface MasterSecret {
  readonly secret: string;
  readonly source: SecretSource;
  /** The development secret file, when `source` is `file` or `created`. */
  readonly file: string | null;
  /** True when `NOT_MY_KEY` is shorter than 16 bytes. */
  readonly weak: boolean;
}

/** The development secret file of database `db`. */
export function secretFileOf(db: string): string {
  return `${db}.secret`;
}

/**
 * Resolves the master secret for `config`. Creates `<db>.secret` (mode 0600) when `NOT_MY_KEY`
 * is unset and the file does not exist. Throws `invalid_config` without `NOT_MY_KEY` for a
 * backend that needs it (a server such as PostgreSQL).
 */
export function resolveMasterSecret(config: Pick<Config, "db" | "masterSecret">): MasterSecret {
  if (config.masterSecret !== null) {
    const weak = new TextEncoder().encode(config.masterSecret).byteLength < 16;
    return { secret: config.masterSecret, source: "env", file: null, weak };
  }
  const backend = backendFor(config.db);
  if (backend.needsSecret) {
    throw new AppError("invalid_config", `NOT_MY_KEY must be set when the database is ${backend.name}`);
  }
  // Neither a server nor a file: the database vanishes with the process, and so may its secret.
  if (!backend.isFile(config.db)) return { secret: randomSecret(), source: "ephemeral", file: null, weak: false };
  const file = secretFileOf(config.db);
  const existing = readSecretFile(file);
  if (existing !== null) return { secret: existing, source: "file", file, weak: false };
  const secret = randomSecret();
  Deno.writeTextFileSync(file, secret + "\n", { mode: 0o600, createNew: true });
  Deno.chmodSync(file, 0o600);
  return { secret, source: "created", file, weak: false };
}

/**
 * The text of the development secret file, or null when there is none. Throws `invalid_config`
 * with the fix when the path is a symlink, not a regular file, or open to group or others: a
 * secret anyone else can read (or swap) seals nothing.
 */
function readSecretFile(file: string): string | null {
  let link: Deno.FileInfo;
  try {
    link = Deno.lstatSync(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  if (link.isSymlink) {
    throw new AppError(
      "invalid_config",
      `Development secret file "${file}" is a symlink; replace it with the file itself (or set NOT_MY_KEY)`,
    );
  }
  if (!link.isFile) throw new AppError("invalid_config", `Development secret file "${file}" is not a regular file`);
  const mode = (link.mode ?? 0) & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AppError(
      "invalid_config",
      `Development secret file "${file}" is readable by others (mode 0${mode.toString(8)}); run: chmod 600 "${file}"`,
    );
  }
  const handle = Deno.openSync(file, { read: true });
  let text: string;
  try {
    // The file read must be the one checked: a swap between the two is refused.
    const opened = handle.statSync();
    if (opened.ino !== link.ino || opened.dev !== link.dev) {
      throw new AppError("invalid_config", `Development secret file "${file}" changed while it was read; try again`);
    }
    text = new TextDecoder().decode(readAllSync(handle));
  } finally {
    handle.close();
  }
  const secret = text.trim();
  if (secret === "") throw new AppError("invalid_config", `Development secret file "${file}" is empty`);
  return secret;
}

/** Reads `file` to its end, at most 64 KiB (a secret is a line). */
function readAllSync(file: Deno.FsFile): Uint8Array {
  const buffer = new Uint8Array(64 * 1024);
  let size = 0;
  for (;;) {
    const n = file.readSync(buffer.subarray(size));
    if (n === null || n === 0) break;
    size += n;
    if (size === buffer.byteLength) break;
  }
  return buffer.subarray(0, size);
}

/**
 * Resolves the master secret and calls `open` with it. When `open` fails after the
 * development secret file was created, the file is removed again, and a `wrong_secret` failure
 * says which secret the database expects.
 */
export async function withMasterSecret<T>(
  config: Pick<Config, "db" | "masterSecret">,
  open: (secret: string) => Promise<T>,
): Promise<{ value: T; secret: MasterSecret }> {
  const secret = resolveMasterSecret(config);
  try {
    return { value: await open(secret.secret), secret };
  } catch (error) {
    if (secret.source !== "created") throw error;
    Deno.removeSync(secret.file!);
    if (hasCode(error, "wrong_secret")) {
      throw new AppError(
        "wrong_secret",
        `"${config.db}" was created with another master secret: set NOT_MY_KEY to it (or restore "${secret.file}")`,
      );
    }
    throw error;
  }
}
