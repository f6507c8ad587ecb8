/**
 * Backups of the SQLite database as files: checking a copy before it is trusted (integrity,
 * the contract tables, the master secret's canary and every sealed key open), telling whether
 * a database file is in use by another connection, and putting a verified copy in place of the
 * database atomically. Making the copy is the driver's online backup (`sqlite_file.ts`).
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { AppError } from "../core/errors.ts";
import { type Sealer, secretCheck } from "../core/seal.ts";
import { inspectDatabase } from "./schema.ts";
import { runProgram, type Statement } from "./sql.ts";
import { describeSqliteError } from "./sqlite_errors.ts";
import { SQLITE_DIALECT } from "./sqlite.ts";
import { checkPages, fileSize } from "./sqlite_file.ts";

/** What a verified copy holds. */
export interface CopySummary {
  readonly keys: number;
  readonly users: number;
  readonly logins: number;
  readonly bytes: number;
}

/**
 * Checks the database file at `path` as a backup: a full `integrity_check`, whole pages, the
 * contract tables' columns, the master-secret canary, and every sealed private key opening with
 * `sealer`. Reads only. Throws `corrupt_data` (damaged) or `wrong_secret` (another secret).
 */
export function verifyCopy(path: string, sealer: Sealer): CopySummary {
  const size = fileSize(path);
  if (size === null) throw new AppError("not_found", `Backup "${path}" does not exist`);
  if (size === 0) throw new AppError("corrupt_data", `Backup "${path}" is empty`);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw describeSqliteError(error, path);
  }
  try {
    const exec = ({ sql, params }: Statement) => db.prepare(sql).all(...params as []);
    const problems = db.prepare("PRAGMA integrity_check(5)").all().map((row) => String(row.integrity_check));
    if (problems.join() !== "ok") {
      throw new AppError("corrupt_data", `Backup "${path}" is damaged (${problems.join("; ").slice(0, 200)})`);
    }
    checkPages(db, path, size);
    if (!runProgram(inspectDatabase(SQLITE_DIALECT, secretCheck(sealer), `"${path}"`), exec)) {
      throw new AppError("corrupt_data", `"${path}" holds no jwks-server database (no master-secret check)`);
    }
    const keys = db.prepare("SELECT k.kid, k.key FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid").all();
    for (const key of keys) sealer.open(Number(key.kid), key.key as Uint8Array).fill(0);
    const count = (sql: string) => Number(db.prepare(sql).get()!.n);
    const users = count("SELECT COUNT(*) AS n FROM users");
    return { keys: keys.length, users, logins: count("SELECT COUNT(*) AS n FROM auth_logs"), bytes: size };
  } catch (error) {
    throw error instanceof AppError ? error : describeSqliteError(error, path);
  } finally {
    db.close();
  }
}

/**
 * Throws `conflict` when another connection has the database file at `path` open (a running
 * server keeps its connection for its life); otherwise moves everything its WAL holds into the
 * file and closes, which removes the WAL. Nothing to do when the file does not exist.
 */
export function checkNotInUse(path: string): void {
  if (fileSize(path) === null) return;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: 0 });
  } catch (error) {
    throw describeSqliteError(error, path);
  }
  try {
    // In exclusive locking mode the first transaction takes the file's exclusive lock, which
    // fails while any connection in WAL mode has the file open (it holds a shared lock).
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    try {
      db.exec("BEGIN EXCLUSIVE");
      db.exec("COMMIT");
    } catch {
      throw new AppError(
        "conflict",
        `"${path}" is in use (a running server or command has it open); stop the server first`,
      );
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/**
 * Puts the file `copy` in place of the database `path`: copied beside it (mode 0600), flushed
 * to disk, then renamed over it, so a crash leaves either the old database or the new one. The
 * old one is kept as `<path>.before-restore`; a stale WAL of it is removed. Call
 * {@linkcode checkNotInUse} first.
 */
export function replaceDatabase(copy: string, path: string): { kept: string | null } {
  const temp = `${path}.restoring-${crypto.randomUUID().slice(0, 8)}`;
  const source = Deno.openSync(copy, { read: true });
  try {
    const target = Deno.openSync(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      Deno.chmodSync(temp, 0o600);
      const buffer = new Uint8Array(1 << 16);
      for (let n = source.readSync(buffer); n !== null; n = source.readSync(buffer)) {
        let written = 0;
        while (written < n) written += target.writeSync(buffer.subarray(written, n));
      }
      target.syncSync();
    } finally {
      target.close();
    }
  } catch (error) {
    Deno.removeSync(temp);
    throw error;
  } finally {
    source.close();
  }
  let kept: string | null = null;
  if (fileSize(path) !== null) {
    kept = `${path}.before-restore`;
    if (fileSize(kept) !== null) Deno.removeSync(kept);
    try {
      Deno.linkSync(path, kept);
    } catch {
      Deno.copyFileSync(path, kept);
    }
  }
  Deno.renameSync(temp, path);
  for (const stale of [`${path}-wal`, `${path}-shm`]) {
    // The old database's WAL (checkpointed, empty) would be read as the new one's.
    if (fileSize(stale) !== null) Deno.removeSync(stale);
  }
  return { kept };
}
