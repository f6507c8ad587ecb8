/**
 * The schema, written once for every SQL backend: the three contract tables the course grader
 * reads (exact columns, see `docs/storage.md`), our own `jwks_*` tables, the migrations that
 * build and upgrade them (column types substituted per dialect), and the program a backend
 * runs at start, under its migration lock: check the columns and the master secret, migrate,
 * store the secret's canary. Locking, files and connections belong to the backends.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { canonicalName } from "../core/names.ts";
import type { SecretCheck } from "../core/seal.ts";
import { bytes, type ColumnTypes, type Dialect, type Program, q } from "./sql.ts";

/** The three contract tables, column names in order, as the course grader sees them. */
export const CONTRACT_COLUMNS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  keys: ["kid", "key", "exp"],
  users: ["id", "username", "password_hash", "email", "date_registered", "last_login"],
  auth_logs: ["id", "request_ip", "request_timestamp", "user_id"],
});

/** `YYYY-MM-DD HH:MM:SS` in UTC, the timestamp format of the contract tables. */
export function sqlTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * One schema change. It runs inside the start transaction, after every earlier one, exactly
 * once per database. A program, so a change can move data as well as declare tables.
 */
export type Migration = (types: ColumnTypes) => Program<void>;

/** A migration of DDL statements, `{id}`, `{int}`, `{blob}`, `{timestamp}`, `{now}` replaced per dialect. */
function ddl(...statements: readonly string[]): Migration {
  return function* (types) {
    for (const statement of statements) {
      yield q(statement.replace(/\{(\w+)\}/g, (_, name: keyof ColumnTypes) => types[name]));
    }
  };
}

/**
 * Every migration ever released, oldest first. Never edit or reorder a released one (a
 * database records only how many it has applied): append. Version 1 is the schema of the
 * first release; version 2 gives the keys version a table of its own in SQLite too; version 3
 * adds the OAuth tables; version 4 stores the key policy with the keys and a note with each
 * key-set change; version 5 makes usernames and emails unique whatever their case or Unicode form;
 * version 6 adds the authorization codes of `GET /authorize` (stored hashed, single use).
 */
export const MIGRATIONS: readonly Migration[] = [
  ddl(
    `CREATE TABLE IF NOT EXISTS keys(
      kid {id},
      key {blob} NOT NULL,
      exp {int} NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS users(
      id {id},
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      email TEXT UNIQUE,
      date_registered {timestamp} DEFAULT {now},
      last_login {timestamp}
    )`,
    `CREATE TABLE IF NOT EXISTS auth_logs(
      id {id},
      request_ip TEXT NOT NULL,
      request_timestamp {timestamp} DEFAULT {now},
      user_id {int},
      FOREIGN KEY(user_id) REFERENCES users(id)
    )`,
    `CREATE TABLE IF NOT EXISTS jwks_key_meta(
      kid {int} PRIMARY KEY REFERENCES keys(kid) ON DELETE CASCADE,
      thumbprint TEXT NOT NULL UNIQUE,
      alg TEXT NOT NULL,
      public_jwk TEXT NOT NULL,
      created_at {int} NOT NULL,
      activates_at {int} NOT NULL,
      retires_at {int} NOT NULL,
      revoked_at {int}
    )`,
    `CREATE TABLE IF NOT EXISTS jwks_settings(
      name TEXT PRIMARY KEY,
      value {blob} NOT NULL
    )`,
    "CREATE INDEX IF NOT EXISTS auth_logs_user_id ON auth_logs(user_id)",
  ),
  function* countersTable(types) {
    // PostgreSQL databases of version 1 have this table already; SQLite ones kept the keys
    // version in jwks_settings, whose values are blobs elsewhere: carry it over.
    yield* ddl(`CREATE TABLE IF NOT EXISTS jwks_counters(
      name TEXT PRIMARY KEY,
      value {int} NOT NULL
    )`)(types);
    const [old] = yield q("SELECT value FROM jwks_settings WHERE name = 'keys_version'");
    if (old === undefined) return;
    yield q(
      "INSERT INTO jwks_counters (name, value) VALUES ('keys_version', ?) ON CONFLICT (name) DO NOTHING",
      Number(old.value),
    );
    yield q("DELETE FROM jwks_settings WHERE name = 'keys_version'");
  },
  // OAuth: clients, grants (refresh-token families), refresh tokens by hash, revoked jtis.
  ddl(
    `CREATE TABLE IF NOT EXISTS jwks_oauth_clients(
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      secret_hash {blob},
      grant_types TEXT NOT NULL,
      scopes TEXT NOT NULL,
      redirect_uris TEXT NOT NULL,
      audiences TEXT NOT NULL,
      created_at {int} NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS jwks_oauth_grants(
      id TEXT PRIMARY KEY,
      client_id TEXT NOT NULL,
      subject TEXT NOT NULL,
      user_id {int},
      scope TEXT NOT NULL,
      audience TEXT NOT NULL,
      created_at {int} NOT NULL,
      revoked_at {int}
    )`,
    "CREATE INDEX IF NOT EXISTS jwks_oauth_grants_client ON jwks_oauth_grants(client_id)",
    `CREATE TABLE IF NOT EXISTS jwks_oauth_refresh_tokens(
      token_hash TEXT PRIMARY KEY,
      grant_id TEXT NOT NULL,
      created_at {int} NOT NULL,
      expires_at {int} NOT NULL,
      used_at {int},
      access_jti TEXT NOT NULL,
      access_exp {int} NOT NULL
    )`,
    "CREATE INDEX IF NOT EXISTS jwks_oauth_refresh_tokens_grant ON jwks_oauth_refresh_tokens(grant_id)",
    `CREATE TABLE IF NOT EXISTS jwks_oauth_revoked(
      jti TEXT PRIMARY KEY,
      expires_at {int} NOT NULL
    )`,
  ),
  ddl(
    `CREATE TABLE IF NOT EXISTS jwks_key_policy(
      name TEXT PRIMARY KEY,
      rotation_interval {int} NOT NULL,
      token_ttl {int} NOT NULL,
      clock_skew {int} NOT NULL,
      retention {int} NOT NULL,
      alg TEXT NOT NULL,
      cached_max_age {int} NOT NULL,
      cached_until {int} NOT NULL,
      updated_at {int} NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS jwks_key_changes(
      version {int} PRIMARY KEY,
      changed_at {int} NOT NULL,
      origin TEXT NOT NULL,
      reason TEXT NOT NULL
    )`,
  ),
  function* caseInsensitiveNames(types) {
    // The contract's users table cannot gain a column: each user's comparison keys (see
    // canonicalName) live here, and their primary key is what makes names unique. Existing
    // users are keyed oldest first; of two that differ only in case, the younger gets no key:
    // it still logs in by its exact name, and no new account can take either spelling.
    yield* ddl(
      `CREATE TABLE IF NOT EXISTS jwks_user_names(
        kind TEXT NOT NULL,
        name_key TEXT NOT NULL,
        user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (kind, name_key)
      )`,
      "CREATE INDEX IF NOT EXISTS jwks_user_names_user ON jwks_user_names(user_id)",
    )(types);
    for (const row of yield q("SELECT id, username, email FROM users ORDER BY id")) {
      yield* nameKeys(Number(row.id), String(row.username), row.email === null ? null : String(row.email));
    }
  },
  // Authorization codes: only their SHA-256; what a redemption issued, so a replay revokes it.
  ddl(
    `CREATE TABLE IF NOT EXISTS jwks_oauth_codes(
      code_hash TEXT PRIMARY KEY,
      client_id TEXT NOT NULL,
      redirect_uri TEXT NOT NULL,
      code_challenge TEXT,
      scope TEXT NOT NULL,
      nonce TEXT,
      subject TEXT NOT NULL,
      user_id {int},
      claims TEXT NOT NULL,
      auth_time {int} NOT NULL,
      created_at {int} NOT NULL,
      expires_at {int} NOT NULL,
      used_at {int},
      access_jti TEXT,
      access_exp {int},
      grant_id TEXT
    )`,
    "CREATE INDEX IF NOT EXISTS jwks_oauth_codes_expiry ON jwks_oauth_codes(expires_at)",
  ),
];

/** Stores the comparison keys of a user's name and email; a key another user holds is left to them. */
export function* nameKeys(userId: number, username: string, email: string | null): Program<void> {
  for (const [kind, name] of [["username", username], ["email", email]] as const) {
    if (name === null) continue;
    yield q(
      `INSERT INTO jwks_user_names (kind, name_key, user_id) VALUES (?, ?, ?)
       ON CONFLICT (kind, name_key) DO NOTHING`,
      kind,
      canonicalName(name),
      userId,
    );
  }
}

/** Throws `corrupt_data` when a contract table in `tables` (name to columns) has other columns. */
export function checkContractColumns(tables: ReadonlyMap<string, readonly string[]>, where: string): void {
  for (const [table, expected] of Object.entries(CONTRACT_COLUMNS)) {
    const columns = tables.get(table);
    if (columns !== undefined && columns.join(",") !== expected.join(",")) {
      throw new AppError(
        "corrupt_data",
        `Table "${table}" in ${where} has columns (${columns.join(", ")}), expected (${expected.join(", ")})`,
      );
    }
  }
}

const READ_CANARY = "SELECT value FROM jwks_settings WHERE name = 'secret_check'";

/**
 * Checks the contract tables' columns and the master secret's canary, reading only. Returns
 * whether the canary exists (false for a new database). Throws `corrupt_data` or `wrong_secret`.
 */
export function* inspectDatabase(dialect: Dialect, secret: SecretCheck, where: string): Program<boolean> {
  const tables = new Map<string, string[]>();
  for (const row of yield q(dialect.columns)) {
    const table = String(row.table_name);
    tables.set(table, [...tables.get(table) ?? [], String(row.column_name)]);
  }
  checkContractColumns(tables, where);
  if (!tables.has("jwks_settings")) return false;
  const [canary] = yield q(READ_CANARY);
  if (canary === undefined) return false;
  secret.verify(bytes(canary.value), where);
  return true;
}

/**
 * The start program: {@linkcode inspectDatabase}, then every pending migration, then the
 * canary of a new database. Run it in one transaction under the backend's migration lock, so
 * concurrent starts migrate once and a refused start writes nothing. Returns true when the
 * database was new (it had no canary).
 */
export function* openDatabase(dialect: Dialect, secret: SecretCheck, where: string): Program<boolean> {
  const hasCanary = yield* inspectDatabase(dialect, secret, where);
  for (const statement of dialect.prepareVersion) yield q(statement);
  const [applied] = yield q(dialect.readVersion);
  for (let version = Number(applied?.version ?? 0); version < MIGRATIONS.length; version++) {
    yield* MIGRATIONS[version]!(dialect.types);
    yield dialect.writeVersion(version + 1);
  }
  if (hasCanary) return false;
  yield q(
    "INSERT INTO jwks_settings (name, value) VALUES ('secret_check', ?) ON CONFLICT (name) DO NOTHING",
    secret.make(),
  );
  // Kept rather than made: a start of the code before this lock could have stored its own.
  const [kept] = yield q(READ_CANARY);
  secret.verify(bytes(kept!.value), where);
  return true;
}
