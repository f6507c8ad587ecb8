/**
 * The `Store` ports over any {@linkcode SqlDriver}, written once: row ↔ record mapping for keys
 * and users, the key-update loop (choose the row id, seal for it, insert the `keys` and
 * `jwks_key_meta` rows; update; delete; bump the keys version), users, and login rows. Each
 * backend supplies only its dialect and driver. All SQL uses bound parameters.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { KeyRecord } from "../core/key_lifecycle.ts";
import { canonicalName } from "../core/names.ts";
import { isAlg, type PublicJwk } from "../core/key_material.ts";
import {
  type AppliedKeyChanges,
  type KeyChanges,
  type LoginEvent,
  type NewUser,
  publicStoreError,
  type Store,
  type UserRecord,
} from "./ports.ts";
import { nameKeys, sqlTimestamp } from "./schema.ts";
import {
  bytes,
  type Dialect,
  numberOrNull,
  type Program,
  q,
  type Row,
  type RunOptions,
  type SqlDriver,
} from "./sql.ts";

/** A `keys` row joined with its `jwks_key_meta` row, as a {@linkcode KeyRecord}. */
export function toKeyRecord(row: Row, where: string): KeyRecord {
  const alg = String(row.alg);
  if (!isAlg(alg)) throw new AppError("corrupt_data", `Key ${row.kid} in ${where} has unknown algorithm "${alg}"`);
  return Object.freeze({
    id: Number(row.kid),
    blob: bytes(row.key),
    exp: Number(row.exp),
    kid: String(row.thumbprint),
    alg,
    publicJwk: Object.freeze(JSON.parse(String(row.public_jwk))) as PublicJwk,
    createdAt: Number(row.created_at),
    activatesAt: Number(row.activates_at),
    retiresAt: Number(row.retires_at),
    revokedAt: numberOrNull(row.revoked_at),
  });
}

/** A `users` row (`id, username, email, password_hash`) as a {@linkcode UserRecord}. */
export function toUserRecord(row: Row): UserRecord {
  return Object.freeze({
    id: Number(row.id),
    username: String(row.username),
    email: row.email === null ? null : String(row.email),
    passwordHash: String(row.password_hash),
  });
}

/** Every key we manage (a `keys` row without metadata belongs to another program), oldest first. */
export function* listKeys(where: string): Program<KeyRecord[]> {
  const rows = yield q(
    `SELECT k.kid, k.key, k.exp, m.thumbprint, m.alg, m.public_jwk, m.created_at, m.activates_at,
            m.retires_at, m.revoked_at
       FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid
      ORDER BY k.kid`,
  );
  return rows.map((row) => toKeyRecord(row, where));
}

/**
 * The key-update loop: plans on the rows this transaction sees, then applies the plan. Run it
 * under the `keys` lock so no two processes plan on the same rows.
 */
export function* updateKeys(
  dialect: Dialect,
  plan: (keys: readonly KeyRecord[]) => KeyChanges,
  where: string,
): Program<AppliedKeyChanges> {
  const changes = plan(yield* listKeys(where));
  const insertedIds: number[] = [];
  for (const insert of changes.inserts) {
    // The id is chosen before the insert so the sealed blob can bind it as AAD; the dialect
    // never hands out an id again, even after its row is purged.
    const [next] = yield q(dialect.nextKeyId);
    const id = Number(next!.id);
    yield q("INSERT INTO keys (kid, key, exp) VALUES (?, ?, ?)", id, insert.seal(id), insert.exp);
    yield q(
      `INSERT INTO jwks_key_meta (kid, thumbprint, alg, public_jwk, created_at, activates_at, retires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      id,
      insert.kid,
      insert.alg,
      JSON.stringify(insert.publicJwk),
      insert.createdAt,
      insert.activatesAt,
      insert.retiresAt,
    );
    insertedIds.push(id);
  }
  for (const update of changes.updates) {
    yield q("UPDATE keys SET exp = ? WHERE kid = ?", update.exp, update.id);
    yield q(
      "UPDATE jwks_key_meta SET activates_at = ?, retires_at = ?, revoked_at = ? WHERE kid = ?",
      update.activatesAt,
      update.retiresAt,
      update.revokedAt,
      update.id,
    );
  }
  for (const id of changes.deletes) {
    yield q("DELETE FROM jwks_key_meta WHERE kid = ?", id);
    yield q("DELETE FROM keys WHERE kid = ?", id);
  }
  if (changes.inserts.length + changes.updates.length + changes.deletes.length > 0) {
    yield q(
      `INSERT INTO jwks_counters (name, value) VALUES ('keys_version', 1)
       ON CONFLICT (name) DO UPDATE SET value = jwks_counters.value + 1`,
    );
  }
  return { ...changes, insertedIds };
}

/**
 * Login rows and `last_login`, for one transaction. Users are updated once each, in id order,
 * so two processes writing batches for the same users cannot deadlock; `last_login` only
 * moves forward, whichever batch commits first (the timestamp text sorts like the time).
 */
export function* recordLogins(events: readonly LoginEvent[]): Program<void> {
  const latest = new Map<number, string>();
  for (const event of events) {
    const at = sqlTimestamp(event.at);
    yield q(
      "INSERT INTO auth_logs (request_ip, request_timestamp, user_id) VALUES (?, ?, ?)",
      event.ip,
      at,
      event.userId,
    );
    if (event.userId === null) continue;
    const seen = latest.get(event.userId);
    if (seen === undefined || at > seen) latest.set(event.userId, at);
  }
  for (const [id, at] of [...latest].sort(([a], [b]) => a - b)) {
    yield q("UPDATE users SET last_login = ? WHERE id = ? AND (last_login IS NULL OR last_login < ?)", at, id, at);
  }
}

/** The user with exactly this name, else the one whose name has the same comparison key. */
function* findUser(username: string): Program<UserRecord | null> {
  const [exact] = yield q("SELECT id, username, email, password_hash FROM users WHERE username = ?", username);
  if (exact !== undefined) return toUserRecord(exact);
  const [row] = yield q(
    `SELECT u.id, u.username, u.email, u.password_hash FROM jwks_user_names n JOIN users u ON u.id = n.user_id
      WHERE n.kind = 'username' AND n.name_key = ?`,
    canonicalName(username),
  );
  return row === undefined ? null : toUserRecord(row);
}

/** Throws `conflict` when another user holds the username or email, in any case or Unicode form. */
function* checkNamesFree(user: NewUser, except: number | null): Program<void> {
  const taken = yield q(
    `SELECT kind, user_id FROM jwks_user_names
      WHERE (kind = 'username' AND name_key = ?) OR (kind = 'email' AND name_key = ?)`,
    canonicalName(user.username),
    user.email === null ? null : canonicalName(user.email),
  );
  const field = taken.filter((row) => Number(row.user_id) !== except).map((row) => String(row.kind)).sort().at(-1);
  if (field !== undefined) throw new AppError("conflict", `That ${field} is already registered`, { field });
}

function* createUser(user: NewUser, now: number): Program<UserRecord> {
  yield* checkNamesFree(user, null);
  const [row] = yield q(
    `INSERT INTO users (username, password_hash, email, date_registered) VALUES (?, ?, ?, ?)
     RETURNING id, username, email, password_hash`,
    user.username,
    user.passwordHash,
    user.email,
    sqlTimestamp(now),
  );
  const created = toUserRecord(row!);
  yield* nameKeys(created.id, created.username, created.email);
  return created;
}

/** Creates the user or replaces the password hash of the one with the same name (in any case). */
function* upsertUser(user: NewUser, now: number): Program<UserRecord> {
  const existing = yield* findUser(user.username);
  if (existing !== null) {
    if (user.email !== null) yield* checkNamesFree({ ...user, username: existing.username }, existing.id);
    const [row] = yield q(
      `UPDATE users SET password_hash = ?, email = COALESCE(?, email) WHERE id = ?
       RETURNING id, username, email, password_hash`,
      user.passwordHash,
      user.email,
      existing.id,
    );
    const updated = toUserRecord(row!);
    yield* nameKeys(updated.id, updated.username, updated.email);
    return updated;
  }
  return yield* createUser(user, now);
}

function* single(sql: string): Program<Row | undefined> {
  const [row] = yield q(sql);
  return row;
}

/** The `Store` over `driver`. Driver failures reach callers as {@linkcode publicStoreError}s. */
export class SqlStore implements Store {
  readonly description: string;
  #driver: SqlDriver;
  #where: string;

  /** `where` names the database in error messages (quoted; a path or a URL without password). */
  constructor(driver: SqlDriver, where: string) {
    this.#driver = driver;
    this.#where = where;
    this.description = driver.description;
  }

  #public(error: unknown): AppError {
    return error instanceof AppError ? error : publicStoreError(this.#driver.describe(error));
  }

  async #run<T>(program: Program<T>, options: RunOptions = {}): Promise<T> {
    try {
      return await this.#driver.run(program, options);
    } catch (error) {
      throw this.#public(error);
    }
  }

  /**
   * {@linkcode #run} for user writes, in one transaction: a taken username or email is a
   * `conflict` naming the field (a comparison key taken by a concurrent writer counts as the username).
   */
  async #writeUser(program: Program<UserRecord>): Promise<UserRecord> {
    try {
      return await this.#driver.run(program, { atomic: true });
    } catch (error) {
      const violated = this.#driver.dialect.uniqueViolation(error) ?? "";
      const field = /^users\.(email|username)$/.exec(violated)?.[1] ??
        (violated.startsWith("jwks_user_names.") ? "username" : undefined);
      if (field !== undefined) throw new AppError("conflict", `That ${field} is already registered`, { field });
      throw this.#public(error);
    }
  }

  listKeys(): Promise<KeyRecord[]> {
    return this.#run(listKeys(this.#where));
  }

  async keysVersion(): Promise<number> {
    const row = await this.#run(single("SELECT value FROM jwks_counters WHERE name = 'keys_version'"));
    return Number(row?.value ?? 0);
  }

  updateKeys(plan: (keys: readonly KeyRecord[]) => KeyChanges): Promise<AppliedKeyChanges> {
    return this.#run(updateKeys(this.#driver.dialect, plan, this.#where), { lock: "keys" });
  }

  createUser(user: NewUser, now: number): Promise<UserRecord> {
    return this.#writeUser(createUser(user, now));
  }

  upsertUser(user: NewUser, now: number): Promise<UserRecord> {
    return this.#writeUser(upsertUser(user, now));
  }

  findUser(username: string): Promise<UserRecord | null> {
    return this.#run(findUser(username));
  }

  recordLogins(events: readonly LoginEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.#run(recordLogins(events), { atomic: true, relaxed: true });
  }

  async ping(): Promise<void> {
    try {
      await this.#driver.check();
    } catch (error) {
      throw this.#public(error);
    }
    await this.#run(single("SELECT COUNT(*) AS n FROM jwks_settings"));
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}
