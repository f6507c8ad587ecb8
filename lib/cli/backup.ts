/**
 * `backup FILE` and `restore FILE` for the SQLite database: a consistent copy taken while the
 * server serves and writes, checked (integrity, and the master secret opens it) before it is
 * named FILE, mode 0600; and a verified copy put back in place of a database no process has
 * open, atomically. PostgreSQL has its own tools (`pg_dump`, see docs/operations.md).
 * @module
 */
import { AppError } from "../core/errors.ts";
import { createSealer, rotatingSealer } from "../core/seal.ts";
import { type Config, loadConfig } from "../settings.ts";
import { resolveMasterSecret, secretFileOf } from "../store/master_secret.ts";
import { backendFor } from "../store/registry.ts";
import { checkNotInUse, type CopySummary, replaceDatabase, verifyCopy } from "../store/sqlite_backup.ts";
import { fileSize } from "../store/sqlite_file.ts";
import { withDatabase } from "./database.ts";
import { type Command, type CommandIo, jsonText } from "./spec.ts";

/** Refuses a database that is not a SQLite file. */
function sqliteOnly(config: Config, what: string): void {
  if (!backendFor(config.db).isFile(config.db)) {
    throw new AppError(
      "bad_request",
      `${what} works on SQLite files; for PostgreSQL use pg_dump and pg_restore (docs/operations.md)`,
    );
  }
}

function summary(copy: CopySummary): string {
  return `${copy.keys} keys, ${copy.users} users, ${copy.logins} auth log rows, ${copy.bytes} bytes`;
}

/** `backup FILE`: a verified, consistent copy of the running database, mode 0600. */
export async function backup(command: Command, io: CommandIo): Promise<number> {
  const target = command.args[0]!;
  sqliteOnly(loadConfig(command.flags, io.env, io.dotenv ?? {}), "backup");
  if (fileSize(target) !== null) {
    throw new AppError("conflict", `"${target}" already exists; name a new file (a backup never overwrites one)`);
  }
  return await withDatabase(command, io, { mustExist: true }, async ({ config, store, sealer }) => {
    const partial = `${target}.partial-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await store.backup(partial);
      const copy = verifyCopy(partial, sealer);
      Deno.renameSync(partial, target);
      if (command.flags.json === true) io.write(jsonText({ file: target, ...copy, verified: true }));
      else {
        io.write(`Backed up "${config.db}" to "${target}" (mode 0600): ${summary(copy)}\n`);
        io.write("Verified: integrity check ok, every key opens with the master secret\n");
      }
      if (config.masterSecret === null) {
        io.warn(
          `Note: the backup opens only with the development secret in "${secretFileOf(config.db)}"; keep a copy of it`,
        );
      }
      return 0;
    } catch (error) {
      if (fileSize(partial) !== null) Deno.removeSync(partial);
      throw error;
    }
  });
}

/** `restore FILE`: the verified backup in place of the database, which no process may have open. */
export function restore(command: Command, io: CommandIo): Promise<number> {
  const source = command.args[0]!;
  const config = loadConfig(command.flags, io.env, io.dotenv ?? {});
  sqliteOnly(config, "restore");
  if (config.masterSecret === null && fileSize(secretFileOf(config.db)) === null) {
    throw new AppError(
      "invalid_config",
      `Set NOT_MY_KEY to the master secret the backup was made with (or put its development secret at ` +
        `"${secretFileOf(config.db)}")`,
    );
  }
  const { secret } = resolveMasterSecret(config);
  const previous = config.previousSecret === null ? null : createSealer(config.previousSecret);
  const copy = verifyCopy(source, rotatingSealer(createSealer(secret), previous));
  checkNotInUse(config.db);
  const { kept } = replaceDatabase(source, config.db);
  if (command.flags.json === true) io.write(jsonText({ db: config.db, from: source, ...copy, kept }));
  else {
    io.write(`Restored "${config.db}" from "${source}": ${summary(copy)}\n`);
    if (kept !== null) io.write(`The database it replaced is kept as "${kept}"\n`);
  }
  return Promise.resolve(0);
}
