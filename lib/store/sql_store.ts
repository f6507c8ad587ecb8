/**
 * The `Store` ports over any {@linkcode SqlDriver}, written once: row ↔ record mapping for keys
 * and users, the key-update loop (choose the row id, seal for it, insert the `keys` and
 * `jwks_key_meta` rows; update; delete; bump the keys version), users, and login rows. Each
 * backend supplies only its dialect and driver. All SQL uses bound parameters.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { KeyRecord } from "../core/key_lifecycle.ts";
import { isAlg, type PublicJwk } from "../core/key_material.ts";
import {
  type AppliedKeyChanges,
  type KeyChangeNote,
  type KeyChangeRecord,
  type KeyChanges,
  type LoginEvent,
  type NewUser,
  publicStoreError,
  type Reseal,
  type Store,
  type StoredPolicy,
  type UserRecord,
} from "./ports.ts";
import type { OAuthStore } from "./oauth_ports.ts";
import { sqlOAuthStore } from "./oauth_sql.ts";
import { createUser, findUser, upsertUser } from "./sql_users.ts";
import {
  bumpKeysVersion,
  pruneLogins,
  readKeyChanges,
  readPolicy,
  recordLogins,
  resealKeys,
  writePolicy,
} from "./sql_upkeep.ts";
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
 * The key-update loop: plans on the rows (and the policy) this transaction sees, then applies
 * the plan, the policy and the change note. Run it under the `keys` lock so no two processes
 * plan on the same rows.
 */
export function* updateKeys(
  dialect: Dialect,
  plan: (keys: readonly KeyRecord[], policy: StoredPolicy | null) => KeyChanges,
  where: string,
): Program<AppliedKeyChanges> {
  const before = yield* listKeys(where);
  const changes = plan(before, yield* readPolicy(where));
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
  if (changes.policy !== undefined) yield* writePolicy(changes.policy);
  if (changes.inserts.length + changes.updates.length + changes.deletes.length === 0 && !changes.policy) {
    const [row] = yield q("SELECT value FROM jwks_counters WHERE name = 'keys_version'");
    return { ...changes, insertedIds, version: Number(row?.value ?? 0), keys: before };
  }
  const version = yield* bumpKeysVersion(changes.note);
  return { ...changes, insertedIds, version, keys: yield* listKeys(where) };
}

function* single(sql: string): Program<Row | undefined> {
  const [row] = yield q(sql);
  return row;
}

/** The `Store` over `driver`. Driver failures reach callers as {@linkcode publicStoreError}s. */
export class SqlStore implements Store {
  readonly description: string;
  readonly oauth: OAuthStore;
  readonly created: boolean;
  #driver: SqlDriver;
  #where: string;

  /**
   * `where` names the database in error messages (quoted; a path or a URL without password);
   * `created` says the open made the database.
   */
  constructor(driver: SqlDriver, where: string, options: { created?: boolean } = {}) {
    this.#driver = driver;
    this.#where = where;
    this.description = driver.description;
    this.oauth = sqlOAuthStore((program, options) => this.#run(program, options));
    this.created = options.created ?? false;
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

  updateKeys(
    plan: (keys: readonly KeyRecord[], policy: StoredPolicy | null) => KeyChanges,
  ): Promise<AppliedKeyChanges> {
    return this.#run(updateKeys(this.#driver.dialect, plan, this.#where), { lock: "keys" });
  }

  keyPolicy(): Promise<StoredPolicy | null> {
    return this.#run(readPolicy(this.#where));
  }

  keyChanges(version: number): Promise<KeyChangeRecord[]> {
    return this.#run(readKeyChanges(version));
  }

  resealKeys(reseal: Reseal, note: KeyChangeNote): Promise<number> {
    return this.#run(resealKeys(reseal, note), { lock: "keys" });
  }

  createUser(user: NewUser, now: number): Promise<UserRecord> {
    return this.#writeUser(createUser(user, now));
  }

  upsertUser(user: NewUser, now: number): Promise<UserRecord> {
    return this.#writeUser(upsertUser(user, now));
  }

  findUser(username: string): Promise<UserRecord | null> {
    // One lookup per request in flight (open mode asks for every username): batched.
    return this.#run(findUser(username), { batched: true });
  }

  recordLogins(events: readonly LoginEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.#run(recordLogins(events), { atomic: true, relaxed: true });
  }

  pruneLogins(before: number, limit: number): Promise<number> {
    return this.#run(pruneLogins(before, limit), { atomic: true });
  }

  async ping(): Promise<void> {
    try {
      await this.#driver.check();
    } catch (error) {
      throw this.#public(error);
    }
    await this.#run(single("SELECT COUNT(*) AS n FROM jwks_settings"));
  }

  async checkpoint(): Promise<void> {
    try {
      await this.#driver.checkpoint();
    } catch (error) {
      throw this.#public(error);
    }
  }

  async backup(path: string): Promise<void> {
    if (this.#driver.backup === undefined) {
      throw new AppError("bad_request", `Database ${this.#where} cannot copy itself; use the server's own backup tool`);
    }
    try {
      await this.#driver.backup(path);
    } catch (error) {
      throw error instanceof AppError ? error : this.#driver.describe(error);
    }
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}
