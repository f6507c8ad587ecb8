/**
 * What SQLite's errors mean for us: a damaged file, a disk or permission problem, a lock held
 * too long, or a fault of ours; and how a client is told about one while serving (without the
 * path or the driver's words). Pure mapping; no SQL runs here.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { publicStoreError } from "./ports.ts";

/**
 * Maps a driver error to an `AppError`: a damaged file is `corrupt_data`; a full disk, an I/O
 * error, a read-only file and a lock are `unavailable` (503, worth a retry once the disk
 * recovers); anything else is `internal`.
 */
export function describeSqliteError(error: unknown, path: string): AppError {
  const message = error instanceof Error ? error.message : String(error);
  if (/not a database|malformed|disk image/i.test(message)) {
    return new AppError("corrupt_data", `Database "${path}" is not a SQLite database or is damaged (${message})`, {
      cause: error,
    });
  }
  if (/unable to open|readonly|read-only|permission|disk is full|disk I\/O error/i.test(message)) {
    return new AppError("unavailable", `Database "${path}" cannot be opened or written (${message})`, { cause: error });
  }
  if (/locked|busy/i.test(message)) {
    return new AppError("unavailable", `Database "${path}" is busy; try again`, { cause: error });
  }
  return new AppError("internal", `Database "${path}" failed (${message})`, { cause: error });
}

/** True when `error` says another connection held the database too long (worth a retry). */
export function isBusyError(error: unknown): boolean {
  const cause = error instanceof AppError ? error.cause : error;
  return error instanceof AppError && error.code === "unavailable" && cause instanceof Error &&
    /locked|busy/i.test(cause.message);
}

/**
 * A driver failure while serving, as clients see it (see {@linkcode publicStoreError}): the
 * detailed error, path included, is its `cause`.
 */
export function runtimeSqliteError(error: unknown, path: string): AppError {
  return publicStoreError(describeSqliteError(error, path));
}
