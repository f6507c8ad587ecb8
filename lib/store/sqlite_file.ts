/**
 * The SQLite file's health, as the SQLite backend checks it: before the first write (whole
 * pages, `quick_check`) and while serving (still the file the connection has open, still
 * readable and writable); its modes: owner only (0600), for the database and its `-wal` and
 * `-shm` (hashes, emails and login IPs are in there); and its consistent copy (the online
 * backup). Runs no SQL beyond those pragmas;
 * opening and migrating are in `sqlite.ts`.
 * @module
 */
import { statSync } from "node:fs";
import { backup, DatabaseSync } from "node:sqlite";
import { AppError } from "../core/errors.ts";

/** Which file a path named when the database was opened. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** Device and inode of the file at `path`, or null when it has none (`:memory:`, no inode). */
export function fileIdentity(path: string): FileIdentity | null {
  if (path === ":memory:" || path === "") return null;
  try {
    const { dev, ino } = statSync(path);
    return ino === 0 ? null : { dev, ino };
  } catch {
    return null;
  }
}

/** The size of the file at `path` in bytes, or null when there is none. */
export function fileSize(path: string): number | null {
  try {
    return Deno.statSync(path).size;
  } catch {
    return null;
  }
}

/**
 * Refuses a file SQLite would open but that lost data: a size that is not a whole number of
 * pages (cut off mid-page) or a failed `PRAGMA quick_check` (pages missing or overwritten).
 */
export function checkPages(db: DatabaseSync, path: string, size: number): void {
  const problems = (db.prepare("PRAGMA quick_check(3)").all() as { quick_check: string }[])
    .map((row) => row.quick_check);
  if (problems.length !== 1 || problems[0] !== "ok") {
    throw new AppError(
      "corrupt_data",
      `Database "${path}" is damaged (${problems.join("; ").replace(/\s+/g, " ").slice(0, 200)})`,
    );
  }
  const pageSize = Number((db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size);
  if (size % pageSize !== 0) {
    throw new AppError(
      "corrupt_data",
      `Database "${path}" is truncated: ${size} bytes is not a whole number of ${pageSize}-byte pages`,
    );
  }
}

/**
 * Throws `unavailable` unless the file at `path` is still `file`, the one the connection has
 * open, and can be read and written. An open connection keeps its file descriptor, so a query
 * alone would succeed on a file that was moved, deleted or replaced; and the superuser reads
 * any file whatever its mode, so the path is compared by device and inode. Nothing here
 * creates a file. Messages carry no path: `/readyz` shows them.
 */
export function checkSameFile(path: string, file: FileIdentity): void {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new AppError("unavailable", "Database file is missing (moved or deleted)");
  }
  if (stat.dev !== file.dev || stat.ino !== file.ino) {
    throw new AppError("unavailable", "Database file was replaced by another file");
  }
  // Never open the file to ask: closing any descriptor of it releases every POSIX lock this
  // process holds on it, SQLite's included, and another process could then take the database
  // for its own (delete the WAL as its last user, or restore over it). The owner's mode bits say
  // what a chmod took away.
  if ((stat.mode & 0o600) !== 0o600) throw new AppError("unavailable", "Database file is not readable and writable");
}

/**
 * Writes a consistent copy of the database `db` has open to the new file `path` with SQLite's
 * online backup, in one step (one read transaction: others keep writing meanwhile, and the copy
 * is the database as of one instant). The file is created first with mode 0600, so the copy is
 * never readable by others, not even for a moment; it is left in rollback-journal mode, one
 * file with no `-wal` beside it. Throws `conflict` when `path` exists.
 */
export async function copyDatabase(db: DatabaseSync, path: string): Promise<void> {
  try {
    Deno.writeFileSync(path, new Uint8Array(), { mode: 0o600, createNew: true });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) throw new AppError("conflict", `"${path}" already exists`);
    throw error;
  }
  try {
    Deno.chmodSync(path, 0o600);
    // `VACUUM INTO` would be simpler, but it attaches a database, which Deno forbids without
    // --allow-all; the backup API needs no attach.
    await backup(db, path, { rate: -1 });
    const copy = new DatabaseSync(path);
    try {
      copy.exec("PRAGMA journal_mode = DELETE");
    } finally {
      copy.close();
    }
  } catch (error) {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) await Deno.remove(file).catch(() => {});
    throw error;
  }
}

/**
 * Creates an empty database file at `path` with mode 0600 when there is none. SQLite gives its
 * `-wal` and `-shm` files the mode of the database file, so all three stay private to the owner.
 */
export function createPrivateFile(path: string): void {
  try {
    Deno.openSync(path, { write: true, createNew: true, mode: 0o600 }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

/**
 * Makes the database at `path` and its `-wal` and `-shm` owner-only (0600) where group or
 * others could read or write them; returns the files it changed.
 */
export function tightenModes(path: string): string[] {
  const changed: string[] = [];
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    let mode: number | null;
    try {
      mode = Deno.statSync(file).mode;
    } catch {
      continue;
    }
    if (mode === null || (mode & 0o077) === 0) continue;
    Deno.chmodSync(file, 0o600);
    changed.push(file);
  }
  return changed;
}
