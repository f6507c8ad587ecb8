/**
 * The SQLite backend over `node:sqlite`, the embedded default: its dialect, its driver (one
 * connection, WAL, a busy timeout, BEGIN IMMEDIATE around every multi-statement change, the
 * per-request lookups of one event-loop turn in one read transaction: `read_batch.ts`), the
 * file checks before the first write, and its registry entry. Programs run synchronously, so
 * no other request's statement can land inside a transaction. Schema and statements are
 * shared (`schema.ts`, `sql_store.ts`); the contract is in `docs/storage.md`.
 *
 * Opening checks the master secret and the file before writing anything, so a wrong
 * `NOT_MY_KEY` or a file that is not a database leaves the file byte-identical.
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SecretCheck } from "../core/seal.ts";
import { AppError } from "../core/errors.ts";
import type { Store, StoreBackend } from "./ports.ts";
import { inspectDatabase, openDatabase } from "./schema.ts";
import {
  databaseClosed,
  type Dialect,
  type Program,
  q,
  type Row,
  type RunOptions,
  runProgram,
  type SqlDriver,
  type Statement,
} from "./sql.ts";
import { batchReadsOn, type ReadBatch } from "./read_batch.ts";
import { SqlStore } from "./sql_store.ts";
import { describeSqliteError, isBusyError } from "./sqlite_errors.ts";
import {
  checkPages,
  checkSameFile,
  copyDatabase,
  createPrivateFile,
  type FileIdentity,
  fileIdentity,
  fileSize,
  tightenModes,
} from "./sqlite_file.ts";

/** Options of {@linkcode openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Checks the master secret against the database before any write. */
  secret: SecretCheck;
  /** How long a statement waits for another writer's lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** SQLite's words for the shared schema and statements. */
export const SQLITE_DIALECT: Dialect = Object.freeze({
  types: {
    id: "INTEGER PRIMARY KEY AUTOINCREMENT",
    int: "INTEGER",
    blob: "BLOB",
    timestamp: "TIMESTAMP",
    now: "CURRENT_TIMESTAMP",
  },
  // AUTOINCREMENT's sequence remembers purged rows; MAX(kid) covers rows inserted with an id.
  nextKeyId: `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'keys'), 0),
                         COALESCE((SELECT MAX(kid) FROM keys), 0)) + 1 AS id`,
  columns: `SELECT m.name AS table_name, p.name AS column_name
              FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
             WHERE m.type = 'table' ORDER BY m.name, p.cid`,
  prepareVersion: [],
  readVersion: "SELECT user_version AS version FROM pragma_user_version",
  writeVersion(version: number) {
    // A PRAGMA takes no bound parameter; the value is our own migration count.
    if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`Bad schema version ${version}`);
    return q(`PRAGMA user_version = ${version}`);
  },
  uniqueViolation(error: unknown) {
    const message = error instanceof Error ? error.message : "";
    return /UNIQUE constraint failed: (\w+\.\w+)/.exec(message)?.[1] ?? null;
  },
});

/** Runs `work` inside BEGIN IMMEDIATE … COMMIT, rolling back on any error. */
function atomically<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Opens (creating when missing) the SQLite database at `path` (`:memory:` for a private
 * in-memory one), checks the file and the master secret, then migrates. Throws `corrupt_data`
 * for a file that is not a usable database or whose contract tables have foreign columns, and
 * `wrong_secret` when the master secret does not match.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions): Store {
  const timeout = options.busyTimeoutMs ?? 5000;
  const where = `"${path}"`;
  if (path !== ":memory:") {
    inspectFile(path, options.secret, timeout);
    createPrivateFile(path);
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout });
  } catch (error) {
    throw describeSqliteError(error, path);
  }
  let created: boolean;
  try {
    if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    // Checked again on this connection, inside the lock: another process may have changed the
    // file since the first look.
    created = atomically(db, () => runProgram(openDatabase(SQLITE_DIALECT, options.secret, where), execOn(db)));
    // Only once the secret matched: a refused start changes nothing, modes included.
    if (path !== ":memory:") tightenModes(path);
  } catch (error) {
    db.close();
    throw error instanceof AppError ? error : describeSqliteError(error, path);
  }
  return new SqlStore(new SqliteDriver(db, path, fileIdentity(path)), where, { created });
}

/** Runs one statement on `db`, preparing it afresh (for connections that run few statements). */
function execOn(db: DatabaseSync): (statement: Statement) => Row[] {
  return ({ sql, params }) => db.prepare(sql).all(...params as Parameters<StatementSync["all"]>);
}

/**
 * The checks that come before the first write, on a connection of their own that only reads.
 * When a crash left a WAL behind, that connection is opened read-only: a read-write one would
 * checkpoint the WAL into the file as it closes, so even a refused start would rewrite the
 * database. (Without a WAL a read-write connection is needed to leave no `-wal`/`-shm` files
 * behind, and its close has nothing to checkpoint.) Throws `corrupt_data` or `wrong_secret`;
 * returns quietly for a file that does not exist yet or is empty.
 */
function inspectFile(path: string, secret: SecretCheck, timeout: number): void {
  const size = fileSize(path);
  if (size === null || size === 0) return;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: fileSize(`${path}-wal`) !== null, timeout });
  } catch (error) {
    throw describeSqliteError(error, path);
  }
  try {
    checkPages(db, path, size);
    runProgram(inspectDatabase(SQLITE_DIALECT, secret, `"${path}"`), execOn(db));
  } catch (error) {
    throw error instanceof AppError ? error : describeSqliteError(error, path);
  } finally {
    db.close();
  }
}

/** One connection; statements prepared once and kept. */
class SqliteDriver implements SqlDriver {
  readonly dialect = SQLITE_DIALECT;
  readonly description: string;
  #db: DatabaseSync;
  #path: string;
  #file: FileIdentity | null;
  #closed = false;
  #statements = new Map<string, StatementSync>();
  #exec = ({ sql, params }: Statement): Row[] => {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement.all(...params as Parameters<StatementSync["all"]>);
  };
  #reads: ReadBatch;

  constructor(db: DatabaseSync, path: string, file: FileIdentity | null) {
    this.#db = db;
    this.#path = path;
    this.#file = file;
    this.description = `sqlite:${path}`;
    this.#reads = batchReadsOn(db, this.#exec);
  }

  /** Runs `program` to its end before returning: nothing else can run inside its transaction. */
  run<T>(program: Program<T>, options: RunOptions = {}): Promise<T> {
    if (options.batched && !options.atomic && options.lock === undefined && !this.#closed) {
      return this.#reads.read(program);
    }
    try {
      return Promise.resolve(this.#runNow(program, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #runNow<T>(program: Program<T>, options: RunOptions): T {
    if (this.#closed) throw databaseClosed();
    if (!options.atomic && options.lock === undefined) return runProgram(program, this.#exec);
    // Login rows arrive write-behind from an in-memory queue, and node:sqlite commits on the
    // request thread: an fsync per batch stalled it ~4 ms (p99 ~19 ms) on a VM disk (bench/).
    // WAL with synchronous=NORMAL still survives a process crash; a power loss may drop the
    // last batches, as a crash drops the queue. Every other write keeps FULL.
    if (options.relaxed) this.#db.exec("PRAGMA synchronous = NORMAL");
    try {
      // BEGIN IMMEDIATE takes the database's one write lock: that is the `keys` lock too.
      return atomically(this.#db, () => runProgram(program, this.#exec));
    } finally {
      if (options.relaxed) this.#db.exec("PRAGMA synchronous = FULL");
    }
  }

  describe(error: unknown): AppError {
    return describeSqliteError(error, this.#path);
  }

  /** See {@linkcode checkSameFile}. */
  check(): Promise<void> {
    if (this.#closed || this.#file === null) return Promise.resolve();
    try {
      checkSameFile(this.#path, this.#file);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A passive checkpoint: copies what it can from the WAL into the file without waiting for
   * readers, so a plain copy of the file is complete up to the last commit it could move.
   */
  checkpoint(mode: "PASSIVE" | "TRUNCATE" = "PASSIVE"): Promise<void> {
    try {
      if (this.#path === ":memory:") return Promise.resolve();
      this.#db.exec(mode === "PASSIVE" ? "PRAGMA wal_checkpoint(PASSIVE)" : "PRAGMA wal_checkpoint(TRUNCATE)");
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@linkcode copyDatabase}. */
  backup(path: string): Promise<void> {
    if (this.#closed) return Promise.reject(databaseClosed());
    return copyDatabase(this.#db, path);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      // Reads already asked for are answered, not failed: they were asked while the store was open.
      this.#reads.flush();
      this.#closed = true;
      this.#statements.clear();
      // A clean stop leaves the whole database in the file, even while another process keeps
      // it open; when readers or a failing disk prevent it, the WAL stays and is still valid.
      if (this.#path !== ":memory:") this.checkpoint("TRUNCATE").catch(() => {});
      this.#db.close();
    }
    return Promise.resolve();
  }
}

/** The registry entry: any `--db` value that is not a URL is a SQLite file, or `:memory:`. */
export const sqliteBackend: StoreBackend = Object.freeze({
  name: "SQLite",
  describe: ["a file path", ":memory:"],
  needsSecret: false,
  matches: (url: string) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url),
  isFile: (url: string) => url !== ":memory:",
  async open(url: string, options: { secret: SecretCheck }): Promise<Store> {
    // Several processes starting at once on a new file can meet SQLITE_BUSY where SQLite does
    // not wait (setting up WAL, a read-only look at a WAL being recovered): retry a few times.
    for (let attempt = 1;; attempt++) {
      try {
        return openSqliteStore(url, { secret: options.secret });
      } catch (error) {
        if (attempt >= 20 || !isBusyError(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
      }
    }
  },
});
