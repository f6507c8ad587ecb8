/**
 * The vocabulary every SQL backend shares: a statement (SQL written once with `?`
 * placeholders, plus its bound values), a program (a generator that yields statements and
 * receives their rows), the dialect a backend supplies, and the driver port that runs
 * programs. Programs are written once; SQLite drives them synchronously, PostgreSQL
 * asynchronously. Runs no SQL itself. The storage contract is in `docs/storage.md`.
 * @module
 */
import { AppError } from "../core/errors.ts";

/** What every driver answers once it is closed: 503 to a request, not a driver's own message. */
export function databaseClosed(): AppError {
  return new AppError("unavailable", "Database is closed");
}

/** A value a statement may bind. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** One result row, column name to driver value (numbers may arrive as strings, bytes as a Buffer). */
export type Row = Readonly<Record<string, unknown>>;

/** One parameterised statement. `sql` uses `?` placeholders; dialects renumber them if they must. */
export interface Statement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

/**
 * Database work written once for every backend: it yields statements, receives each one's rows,
 * and returns its result. It must not await: SQLite runs it inside one synchronous transaction.
 */
export type Program<T> = Generator<Statement, T, readonly Row[]>;

/** The statement `sql` with `params` bound, in order, to its `?` placeholders. */
export function q(sql: string, ...params: SqlValue[]): Statement {
  return { sql, params };
}

/** Runs `program` with a synchronous `exec`: no other code can run between its statements. */
export function runProgram<T>(program: Program<T>, exec: (statement: Statement) => readonly Row[]): T {
  let step = program.next();
  while (!step.done) step = program.next(exec(step.value));
  return step.value;
}

/** Runs `program` with an asynchronous `exec`, one statement at a time. */
export async function runProgramAsync<T>(
  program: Program<T>,
  exec: (statement: Statement) => Promise<readonly Row[]>,
): Promise<T> {
  let step = program.next();
  while (!step.done) step = program.next(await exec(step.value));
  return step.value;
}

/** A driver value as bytes (SQLite gives a `Uint8Array`, `pg` a `Buffer`), copied. */
export function bytes(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError("Expected a binary column");
  return new Uint8Array(value);
}

/** A driver value as a number (`pg` returns BIGINT as a string); null stays null. */
export function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** The column types substituted into the migrations, written `{name}` there. */
export interface ColumnTypes {
  /** An integer primary key that the database numbers and never reuses. */
  readonly id: string;
  /** A 64-bit integer. */
  readonly int: string;
  readonly blob: string;
  /** A `YYYY-MM-DD HH:MM:SS` timestamp without time zone. */
  readonly timestamp: string;
  /** The default of a timestamp column: now, in UTC, whole seconds. */
  readonly now: string;
}

/** What a SQL backend says in its own words; everything else is written once. */
export interface Dialect {
  readonly types: ColumnTypes;
  /** Selects `id`: the next `keys.kid`, past every id used before, purged rows included. */
  readonly nextKeyId: string;
  /** Selects `table_name`, `column_name` of every table in the database, in column order. */
  readonly columns: string;
  /** Statements run before {@linkcode Dialect.readVersion}, such as creating a version table. */
  readonly prepareVersion: readonly string[];
  /** Selects `version`: how many migrations this database has applied. */
  readonly readVersion: string;
  /** The statement recording that `version` migrations are applied. */
  writeVersion(version: number): Statement;
  /** The unique column `error` says was violated, as `table.column` (`users.email`); else null. */
  uniqueViolation(error: unknown): string | null;
}

/** How a driver runs one program. */
export interface RunOptions {
  /** One transaction around the whole program, rolled back on any error. Default: none. */
  readonly atomic?: boolean;
  /**
   * Serialises the transaction with every other one holding the same lock, in every process
   * sharing the database; taken before the program's first read. Implies `atomic`.
   */
  readonly lock?: "keys";
  /**
   * The commit may be lost on a power failure (never on a process crash) in exchange for not
   * waiting for the disk: for write-behind rows such as `auth_logs`.
   */
  readonly relaxed?: boolean;
  /**
   * A read-only program that may wait for the end of the event loop's turn and share one read
   * transaction with the other batched reads of that turn (SQLite: `read_batch.ts`). It still
   * runs after it was asked for, so it sees every commit made before. Ignored with `atomic`
   * or `lock`, and by backends that have nothing to save by it.
   */
  readonly batched?: boolean;
}

/** The port a SQL backend implements: runs programs on its connection(s). */
export interface SqlDriver {
  readonly dialect: Dialect;
  /** For logs: the database without any password. */
  readonly description: string;
  /** Runs `program`; rejects with the driver's own error, or `unavailable` once closed. */
  run<T>(program: Program<T>, options?: RunOptions): Promise<T>;
  /** The detailed error (naming the database) for a driver failure. */
  describe(error: unknown): AppError;
  /** Checks what a query cannot see (a SQLite file moved or replaced); resolves when fine. */
  check(): Promise<void>;
  /** See `Store.checkpoint`. */
  checkpoint(): Promise<void>;
  /** See `Store.backup`; absent for a backend that cannot copy itself. */
  backup?(path: string): Promise<void>;
  close(): Promise<void>;
}
