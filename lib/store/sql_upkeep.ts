/**
 * The programs that keep a database in order, beside the key-update loop of `sql_store.ts`:
 * the key policy stored with the keys, the note stored with each key-set change, re-sealing
 * every private key under a new master secret in one transaction, and the `auth_logs` rows:
 * written in batches, pruned in small batches past their retention. Written once with `?` placeholders for every backend; no driver here.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { isAlg } from "../core/key_material.ts";
import { CANARY_KID } from "../core/seal.ts";
import type { KeyChangeNote, KeyChangeRecord, LoginEvent, Reseal, StoredPolicy } from "./ports.ts";
import { sqlTimestamp } from "./schema.ts";
import { bytes, type Program, q, type SqlValue } from "./sql.ts";

/** How many change notes are kept: enough for any process that polls every few seconds. */
export const KEPT_CHANGE_NOTES = 1000;

/** The one row of `jwks_key_policy`. */
const POLICY_ROW = "current";

/** The stored key policy, or null when none was stored yet. */
export function* readPolicy(where: string): Program<StoredPolicy | null> {
  const [row] = yield q(
    `SELECT rotation_interval, token_ttl, clock_skew, retention, alg, cached_max_age, cached_until, updated_at
       FROM jwks_key_policy WHERE name = ?`,
    POLICY_ROW,
  );
  if (row === undefined) return null;
  const alg = String(row.alg);
  if (!isAlg(alg)) throw new AppError("corrupt_data", `The key policy in ${where} has unknown algorithm "${alg}"`);
  return Object.freeze({
    rotationInterval: Number(row.rotation_interval),
    tokenTtl: Number(row.token_ttl),
    clockSkew: Number(row.clock_skew),
    retention: Number(row.retention),
    alg,
    cachedMaxAge: Number(row.cached_max_age),
    cachedUntil: Number(row.cached_until),
    updatedAt: Number(row.updated_at),
  });
}

/** Stores `policy` as the key set's policy. */
export function* writePolicy(policy: StoredPolicy): Program<void> {
  yield q(
    `INSERT INTO jwks_key_policy
       (name, rotation_interval, token_ttl, clock_skew, retention, alg, cached_max_age, cached_until, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET
       rotation_interval = excluded.rotation_interval, token_ttl = excluded.token_ttl,
       clock_skew = excluded.clock_skew, retention = excluded.retention, alg = excluded.alg,
       cached_max_age = excluded.cached_max_age, cached_until = excluded.cached_until,
       updated_at = excluded.updated_at`,
    POLICY_ROW,
    policy.rotationInterval,
    policy.tokenTtl,
    policy.clockSkew,
    policy.retention,
    policy.alg,
    policy.cachedMaxAge,
    policy.cachedUntil,
    policy.updatedAt,
  );
}

/**
 * Bumps the keys version, stores `note` under the new version (when given) and forgets notes
 * older than the last {@linkcode KEPT_CHANGE_NOTES}. Returns the new version.
 */
export function* bumpKeysVersion(note: KeyChangeNote | undefined): Program<number> {
  const [row] = yield q(
    `INSERT INTO jwks_counters (name, value) VALUES ('keys_version', 1)
     ON CONFLICT (name) DO UPDATE SET value = jwks_counters.value + 1
     RETURNING value`,
  );
  const version = Number(row!.value);
  if (note !== undefined) {
    yield q(
      "INSERT INTO jwks_key_changes (version, changed_at, origin, reason) VALUES (?, ?, ?, ?)",
      version,
      note.at,
      note.origin.slice(0, 200),
      note.reason.slice(0, 40),
    );
    yield q("DELETE FROM jwks_key_changes WHERE version <= ?", version - KEPT_CHANGE_NOTES);
  }
  return version;
}

/** The notes of the changes after keys version `version`, oldest first. */
export function* readKeyChanges(version: number): Program<KeyChangeRecord[]> {
  const rows = yield q(
    "SELECT version, changed_at, origin, reason FROM jwks_key_changes WHERE version > ? ORDER BY version",
    version,
  );
  return rows.map((row) =>
    Object.freeze({
      version: Number(row.version),
      at: Number(row.changed_at),
      origin: String(row.origin),
      reason: String(row.reason),
    })
  );
}

/**
 * Re-seals every key we manage and the master-secret canary with `reseal`, then bumps the keys
 * version with `note` when anything changed. Run it under the `keys` lock, in one transaction:
 * a failure (or a crash) anywhere leaves every blob as it was. Returns how many blobs changed.
 */
export function* resealKeys(reseal: Reseal, note: KeyChangeNote): Program<number> {
  const rows = yield q("SELECT k.kid, k.key FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid ORDER BY k.kid");
  let changed = 0;
  for (const row of rows) {
    const id = Number(row.kid);
    const blob = reseal(id, bytes(row.key));
    if (blob === null) continue;
    yield q("UPDATE keys SET key = ? WHERE kid = ?", blob, id);
    changed++;
  }
  const [canary] = yield q("SELECT value FROM jwks_settings WHERE name = 'secret_check'");
  const sealed = canary === undefined ? null : reseal(CANARY_KID, bytes(canary.value));
  if (sealed !== null) {
    yield q("UPDATE jwks_settings SET value = ? WHERE name = 'secret_check'", sealed);
    changed++;
  }
  if (changed > 0) yield* bumpKeysVersion(note);
  return changed;
}

/**
 * Rows per `INSERT` of a login batch, largest first: a batch is written as statements of these
 * sizes, so one statement carries many rows (a statement per row cost ~3 µs of each login in a
 * CPU profile, docs/performance.md) and only these few SQL texts are ever prepared.
 */
export const LOGIN_INSERT_ROWS: readonly number[] = Object.freeze([64, 16, 4, 1]);

const loginInserts = new Map<number, string>(
  LOGIN_INSERT_ROWS.map((rows) => [
    rows,
    `INSERT INTO auth_logs (request_ip, request_timestamp, user_id) VALUES ${
      Array.from({ length: rows }, () => "(?, ?, ?)").join(", ")
    }`,
  ]),
);

/**
 * Login rows and `last_login`, for one transaction. Rows keep the batch's order. Users are
 * updated once each, in id order, so two processes writing batches for the same users cannot
 * deadlock; `last_login` only moves forward, whichever batch commits first (the timestamp text
 * sorts like the time).
 */
export function* recordLogins(events: readonly LoginEvent[]): Program<void> {
  const latest = new Map<number, string>();
  const params: SqlValue[] = [];
  // Timestamps have whole seconds: the logins of one second share one string.
  let second = NaN;
  let text = "";
  for (const event of events) {
    if (Math.floor(event.at / 1000) !== second) {
      second = Math.floor(event.at / 1000);
      text = sqlTimestamp(event.at);
    }
    params.push(event.ip, text, event.userId);
    if (event.userId === null) continue;
    const seen = latest.get(event.userId);
    if (seen === undefined || text > seen) latest.set(event.userId, text);
  }
  let offset = 0;
  for (const rows of LOGIN_INSERT_ROWS) {
    for (; events.length - offset >= rows; offset += rows) {
      yield q(loginInserts.get(rows)!, ...params.slice(offset * 3, (offset + rows) * 3));
    }
  }
  for (const [id, at] of [...latest].sort(([a], [b]) => a - b)) {
    yield q("UPDATE users SET last_login = ? WHERE id = ? AND (last_login IS NULL OR last_login < ?)", at, id, at);
  }
}

/**
 * Deletes those of the `limit` oldest `auth_logs` rows that are from before `before` (unix ms).
 * Looking only at the oldest rows keeps each batch cheap without an index on the timestamp:
 * rows arrive in time order, so the oldest are the ones past the retention.
 */
export function* pruneLogins(before: number, limit: number): Program<number> {
  const rows = yield q(
    `DELETE FROM auth_logs
      WHERE id IN (SELECT id FROM auth_logs ORDER BY id LIMIT ?) AND request_timestamp < ?
     RETURNING id`,
    limit,
    sqlTimestamp(before),
  );
  return rows.length;
}
