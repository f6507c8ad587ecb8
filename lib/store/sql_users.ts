/**
 * The user programs of the shared SQL core: row ↔ record mapping, lookups by exact name or by
 * comparison key (any case, any Unicode form: `jwks_user_names`), creation and upsert with the
 * uniqueness check. Dialect-neutral; `sql_store.ts` runs them.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { canonicalName } from "../core/names.ts";
import type { NewUser, UserRecord } from "./ports.ts";
import { nameKeys, sqlTimestamp } from "./schema.ts";
import { type Program, q, type Row } from "./sql.ts";

/** A `users` row (`id, username, email, password_hash`) as a {@linkcode UserRecord}. */
export function toUserRecord(row: Row): UserRecord {
  return Object.freeze({
    id: Number(row.id),
    username: String(row.username),
    email: row.email === null ? null : String(row.email),
    passwordHash: String(row.password_hash),
  });
}

/**
 * The user with exactly this name, else the one whose name has the same comparison key: one
 * statement (a login's only read), the exact match ranked first.
 */
export function* findUser(username: string): Program<UserRecord | null> {
  const [row] = yield q(
    `SELECT id, username, email, password_hash FROM (
       SELECT id, username, email, password_hash, 0 AS rank FROM users WHERE username = ?
       UNION ALL
       SELECT u.id, u.username, u.email, u.password_hash, 1 AS rank
         FROM jwks_user_names n JOIN users u ON u.id = n.user_id
        WHERE n.kind = 'username' AND n.name_key = ?
     ) AS found ORDER BY rank LIMIT 1`,
    username,
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

export function* createUser(user: NewUser, now: number): Program<UserRecord> {
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
export function* upsertUser(user: NewUser, now: number): Program<UserRecord> {
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
