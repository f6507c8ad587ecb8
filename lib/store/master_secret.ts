/**
 * Finds the master secret that seals private keys, for the server and for the commands that
 * open its database: `NOT_MY_KEY`, or else the development secret in `<db>.secret`, created
 * (mode 0600) when missing. Opening through {@linkcode withMasterSecret} removes a secret file
 * it just created when the open fails, so a failed start leaves the disk as it was. Logs
 * nothing: callers decide how loudly to warn.
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
  try {
    const secret = Deno.readTextFileSync(file).trim();
    if (secret === "") throw new AppError("invalid_config", `Development secret file "${file}" is empty`);
    return { secret, source: "file", file, weak: false };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const secret = randomSecret();
  Deno.writeTextFileSync(file, secret + "\n", { mode: 0o600, createNew: true });
  Deno.chmodSync(file, 0o600);
  return { secret, source: "created", file, weak: false };
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
