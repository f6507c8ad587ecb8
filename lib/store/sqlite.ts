/**
 * The storage ports over `node:sqlite`: the schema the course grader reads (`keys`, `users`,
 * `auth_logs`, exactly as PRODUCT.md §5), our own `jwks_*` tables for key metadata and
 * settings, migrations that are safe on every start, WAL, a busy timeout, and an immediate
 * transaction around every multi-statement change. All SQL uses bound parameters.
 *
 * Opening checks the master secret and the file before writing anything, so a wrong
 * `NOT_MY_KEY` or a file that is not a database leaves the file byte-identical.
 * @module
 */
import { statSync } from "node:fs";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { SecretCheck } from "../core/seal.ts";
import { AppError } from "../core/errors.ts";
import { type KeyRecord } from "../core/key_lifecycle.ts";
import { type Alg, isAlg, type PublicJwk } from "../core/key_material.ts";
import {
  type AppliedKeyChanges,
  type KeyChanges,
  keyMetaValues,
  type LoginEvent,
  type NewUser,
  publicStoreError,
  type Store,
  type UserRecord,
} from "./ports.ts";

/** Options of {@linkcode openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Checks the master secret against the database before any write. */
  secret: SecretCheck;
  /** How long a statement waits for another writer's lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** The three contract tables, column names in order, as the course grader sees them. */
export const CONTRACT_COLUMNS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  keys: ["kid", "key", "exp"],
  users: ["id", "username", "password_hash", "email", "date_registered", "last_login"],
  auth_logs: ["id", "request_ip", "request_timestamp", "user_id"],
});

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS keys(
    kid INTEGER PRIMARY KEY AUTOINCREMENT,
    key BLOB NOT NULL,
    exp INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS users(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email TEXT UNIQUE,
    date_registered TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    last_login TIMESTAMP
  );
  CREATE TABLE IF NOT EXISTS auth_logs(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_ip TEXT NOT NULL,
    request_timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    user_id INTEGER,
    FOREIGN KEY(user_id) REFERENCES users(id)
  );
  CREATE TABLE IF NOT EXISTS jwks_key_meta(
    kid INTEGER PRIMARY KEY REFERENCES keys(kid) ON DELETE CASCADE,
    thumbprint TEXT NOT NULL UNIQUE,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    activates_at INTEGER NOT NULL,
    retires_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE IF NOT EXISTS jwks_settings(
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS auth_logs_user_id ON auth_logs(user_id);`,
];

/** `YYYY-MM-DD HH:MM:SS` in UTC, the timestamp format of the contract tables. */
export function sqlTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

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

interface KeyRow {
  kid: number;
  key: Uint8Array;
  exp: number;
  thumbprint: string;
  alg: string;
  public_jwk: string;
  created_at: number;
  activates_at: number;
  retires_at: number;
  revoked_at: number | null;
}

interface UserRow {
  id: number;
  username: string;
  email: string | null;
  password_hash: string;
}

/**
 * Opens (creating when missing) the SQLite database at `path` (`:memory:` for a private
 * in-memory one), checks the file and the master secret, then migrates. Throws `corrupt_data`
 * for a file that is not a usable database, `wrong_secret` when the master secret does not
 * match, and `invalid_config` when a contract table has foreign columns.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions): Store {
  const timeout = options.busyTimeoutMs ?? 5000;
  if (path !== ":memory:") inspectFile(path, options.secret, timeout);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout });
  } catch (error) {
    throw describeSqliteError(error, path);
  }
  try {
    // Checked again on this connection: another process may have changed the file meanwhile.
    const canary = inspectSchema(db, path, options.secret);
    if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    const version = (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec("BEGIN IMMEDIATE");
      try {
        db.exec(MIGRATIONS[v]!);
        db.exec(`PRAGMA user_version = ${v + 1}`);
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    }
    if (!canary) {
      db.prepare("INSERT OR IGNORE INTO jwks_settings (name, value) VALUES ('secret_check', ?)")
        .run(options.secret.make());
      // Another process may have created the database between our first look and now: check the
      // canary that was actually kept, so two first starts with different secrets cannot both run.
      const kept = db.prepare("SELECT value FROM jwks_settings WHERE name = 'secret_check'").get() as {
        value: Uint8Array;
      };
      options.secret.verify(kept.value, `"${path}"`);
    }
  } catch (error) {
    db.close();
    throw error instanceof AppError ? error : describeSqliteError(error, path);
  }
  return new SqliteStore(db, path, fileIdentity(path));
}

/** Device and inode of the file at `path`, or null when it has none (`:memory:`, no inode). */
function fileIdentity(path: string): FileIdentity | null {
  if (path === ":memory:" || path === "") return null;
  try {
    const { dev, ino } = statSync(path);
    return ino === 0 ? null : { dev, ino };
  } catch {
    return null;
  }
}

interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
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
    checkFile(db, path, size);
    inspectSchema(db, path, secret);
  } catch (error) {
    throw error instanceof AppError ? error : describeSqliteError(error, path);
  } finally {
    db.close();
  }
}

function fileSize(path: string): number | null {
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
function checkFile(db: DatabaseSync, path: string, size: number): void {
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
 * Checks the contract tables' columns and the master secret's canary. Returns whether the
 * canary exists (false for a new database). Reads only.
 */
function inspectSchema(db: DatabaseSync, path: string, secret: SecretCheck): boolean {
  const tables = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
      .map((row) => row.name),
  );
  for (const [table, expected] of Object.entries(CONTRACT_COLUMNS)) {
    if (!tables.has(table)) continue;
    const columns = (db.prepare("SELECT name FROM pragma_table_info(?)").all(table) as { name: string }[])
      .map((row) => row.name);
    if (columns.join(",") !== expected.join(",")) {
      throw new AppError(
        "corrupt_data",
        `Table "${table}" in "${path}" has columns (${columns.join(", ")}), expected (${expected.join(", ")})`,
      );
    }
  }
  const canary = tables.has("jwks_settings")
    ? db.prepare("SELECT value FROM jwks_settings WHERE name = 'secret_check'").get() as
      | { value: Uint8Array }
      | undefined
    : undefined;
  if (canary !== undefined) secret.verify(canary.value, `"${path}"`);
  return canary !== undefined;
}

class SqliteStore implements Store {
  readonly description: string;
  #db: DatabaseSync;
  #path: string;
  #file: FileIdentity | null;
  #closed = false;
  #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, path: string, file: FileIdentity | null) {
    this.#db = db;
    this.#path = path;
    this.#file = file;
    this.description = `sqlite:${path}`;
  }

  #stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs synchronous database work, mapping driver errors with {@linkcode runtimeSqliteError}. */
  #sync<T>(work: () => T): T {
    if (this.#closed) throw new AppError("unavailable", "Database is closed");
    try {
      return work();
    } catch (error) {
      throw error instanceof AppError ? error : runtimeSqliteError(error, this.#path);
    }
  }

  /** {@linkcode #sync} as a promise: errors become rejections, never synchronous throws. */
  #run<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(this.#sync(work));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Runs `work` inside BEGIN IMMEDIATE … COMMIT, rolling back on any error. */
  #atomically<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** {@linkcode #atomically} as a promise. */
  #transaction<T>(work: () => T): Promise<T> {
    return this.#run(() => this.#atomically(work));
  }

  #listKeys(): KeyRecord[] {
    const rows = this.#stmt(
      `SELECT k.kid, k.key, k.exp, m.thumbprint, m.alg, m.public_jwk, m.created_at, m.activates_at,
              m.retires_at, m.revoked_at
         FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid
        ORDER BY k.kid`,
    ).all() as unknown as KeyRow[];
    return rows.map((row) => {
      if (!isAlg(row.alg)) {
        throw new AppError("corrupt_data", `Key ${row.kid} in "${this.#path}" has unknown algorithm "${row.alg}"`);
      }
      const alg: Alg = row.alg;
      return Object.freeze({
        id: row.kid,
        blob: row.key,
        exp: row.exp,
        kid: row.thumbprint,
        alg,
        publicJwk: Object.freeze(JSON.parse(row.public_jwk)) as PublicJwk,
        createdAt: row.created_at,
        activatesAt: row.activates_at,
        retiresAt: row.retires_at,
        revokedAt: row.revoked_at,
      });
    });
  }

  listKeys(): Promise<KeyRecord[]> {
    return this.#run(() => this.#listKeys());
  }

  keysVersion(): Promise<number> {
    return this.#run(() => {
      const row = this.#stmt("SELECT value FROM jwks_settings WHERE name = 'keys_version'").get() as
        | { value: number }
        | undefined;
      return Number(row?.value ?? 0);
    });
  }

  updateKeys(plan: (keys: readonly KeyRecord[]) => KeyChanges): Promise<AppliedKeyChanges> {
    return this.#transaction(() => {
      const changes = plan(this.#listKeys());
      const insertedIds: number[] = [];
      for (const insert of changes.inserts) {
        // The id is chosen before the insert so the sealed blob can bind it as AAD. Ids are
        // never reused: AUTOINCREMENT's sequence remembers purged rows.
        const next = this.#stmt(
          `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'keys'), 0),
                      COALESCE((SELECT MAX(kid) FROM keys), 0)) + 1 AS id`,
        ).get() as { id: number };
        const id = Number(next.id);
        this.#stmt("INSERT INTO keys (kid, key, exp) VALUES (?, ?, ?)").run(id, insert.seal(id), insert.exp);
        this.#stmt(
          `INSERT INTO jwks_key_meta (kid, thumbprint, alg, public_jwk, created_at, activates_at, retires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(...keyMetaValues(id, insert));
        insertedIds.push(id);
      }
      for (const update of changes.updates) {
        this.#stmt("UPDATE keys SET exp = ? WHERE kid = ?").run(update.exp, update.id);
        this.#stmt("UPDATE jwks_key_meta SET activates_at = ?, retires_at = ?, revoked_at = ? WHERE kid = ?")
          .run(update.activatesAt, update.retiresAt, update.revokedAt, update.id);
      }
      for (const id of changes.deletes) {
        this.#stmt("DELETE FROM jwks_key_meta WHERE kid = ?").run(id);
        this.#stmt("DELETE FROM keys WHERE kid = ?").run(id);
      }
      if (changes.inserts.length + changes.updates.length + changes.deletes.length > 0) {
        this.#stmt(
          `INSERT INTO jwks_settings (name, value) VALUES ('keys_version', 1)
           ON CONFLICT(name) DO UPDATE SET value = value + 1`,
        ).run();
      }
      return { ...changes, insertedIds };
    });
  }

  #toUser(row: UserRow | undefined): UserRecord | null {
    if (row === undefined) return null;
    return Object.freeze({ id: row.id, username: row.username, email: row.email, passwordHash: row.password_hash });
  }

  #findUser(username: string): UserRecord | null {
    return this.#toUser(
      this.#stmt("SELECT id, username, email, password_hash FROM users WHERE username = ?").get(username) as
        | UserRow
        | undefined,
    );
  }

  #conflict(error: unknown): never {
    const message = error instanceof Error ? error.message : "";
    const field = /users\.email/.test(message) ? "email" : /users\.username/.test(message) ? "username" : null;
    if (field !== null) throw new AppError("conflict", `That ${field} is already registered`, { field });
    throw error;
  }

  createUser(user: NewUser, now: number): Promise<UserRecord> {
    return this.#run(() => {
      try {
        this.#stmt("INSERT INTO users (username, password_hash, email, date_registered) VALUES (?, ?, ?, ?)")
          .run(user.username, user.passwordHash, user.email, sqlTimestamp(now));
      } catch (error) {
        this.#conflict(error);
      }
      return this.#findUser(user.username)!;
    });
  }

  upsertUser(user: NewUser, now: number): Promise<UserRecord> {
    return this.#transaction(() => {
      const existing = this.#findUser(user.username);
      try {
        if (existing === null) {
          this.#stmt("INSERT INTO users (username, password_hash, email, date_registered) VALUES (?, ?, ?, ?)")
            .run(user.username, user.passwordHash, user.email, sqlTimestamp(now));
        } else {
          this.#stmt("UPDATE users SET password_hash = ?, email = COALESCE(?, email) WHERE id = ?")
            .run(user.passwordHash, user.email, existing.id);
        }
      } catch (error) {
        this.#conflict(error);
      }
      return this.#findUser(user.username)!;
    });
  }

  findUser(username: string): Promise<UserRecord | null> {
    return this.#run(() => this.#findUser(username));
  }

  recordLogins(events: readonly LoginEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    // Login rows arrive write-behind from an in-memory queue, and node:sqlite commits on the
    // request thread: an fsync per batch stalled it ~4 ms (p99 ~19 ms) on a VM disk (bench/).
    // WAL with synchronous=NORMAL still survives a process crash; a power loss may drop the
    // last batches, as a crash drops the queue. Every other write keeps FULL.
    return this.#run(() => {
      this.#db.exec("PRAGMA synchronous = NORMAL");
      try {
        this.#atomically(() => {
          for (const event of events) {
            const at = sqlTimestamp(event.at);
            const values: SQLInputValue[] = [event.ip, at, event.userId];
            this.#stmt("INSERT INTO auth_logs (request_ip, request_timestamp, user_id) VALUES (?, ?, ?)").run(
              ...values,
            );
            if (event.userId !== null) {
              this.#stmt("UPDATE users SET last_login = ? WHERE id = ?").run(at, event.userId);
            }
          }
        });
      } finally {
        this.#db.exec("PRAGMA synchronous = FULL");
      }
    });
  }

  /**
   * Checks that the file at the configured path is still the one this connection has open and
   * that it can be read and written, then runs a query. An open connection keeps its file
   * descriptor, so a query alone would succeed on a file that was moved, deleted or replaced;
   * and the superuser reads any file whatever its mode, so the path is compared by device and
   * inode. Nothing here creates a file. Messages carry no path: `/readyz` shows them.
   */
  ping(): Promise<void> {
    return this.#run(() => {
      if (this.#file !== null) this.#checkFile(this.#file);
      this.#stmt("SELECT COUNT(*) FROM jwks_settings").get();
    });
  }

  #checkFile(file: FileIdentity): void {
    let stat;
    try {
      stat = statSync(this.#path);
    } catch {
      throw new AppError("unavailable", "Database file is missing (moved or deleted)");
    }
    if (stat.dev !== file.dev || stat.ino !== file.ino) {
      throw new AppError("unavailable", "Database file was replaced by another file");
    }
    try {
      // Opening for read and write (never create) asks the kernel, with no extra permission
      // from Deno (node's accessSync would need --allow-sys=uid,gid).
      Deno.openSync(this.#path, { read: true, write: true }).close();
    } catch {
      throw new AppError("unavailable", "Database file is not readable and writable");
    }
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#statements.clear();
      this.#db.close();
    }
    return Promise.resolve();
  }
}
