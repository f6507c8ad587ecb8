/**
 * The SQL of grants (refresh-token families) shared by `oauth_sql.ts` and `oauth_codes_sql.ts`:
 * the row mapping, find, insert, and the revocation that also revokes the unexpired access
 * tokens recorded on the grant's refresh tokens.
 * @module
 */
import type { GrantRecord } from "./oauth_ports.ts";
import { numberOrNull, type Program, q, type Row } from "./sql.ts";

function list(value: unknown): readonly string[] {
  const parsed = JSON.parse(String(value));
  return Object.freeze(Array.isArray(parsed) ? parsed.map(String) : []);
}

const GRANT_COLUMNS = "id, client_id, subject, user_id, scope, audience, created_at, revoked_at";

/** A `jwks_oauth_grants` row as a {@linkcode GrantRecord}. */
export function toGrantRecord(row: Row): GrantRecord {
  return Object.freeze({
    id: String(row.id),
    clientId: String(row.client_id),
    subject: String(row.subject),
    userId: numberOrNull(row.user_id),
    scope: String(row.scope),
    audience: list(row.audience),
    createdAt: Number(row.created_at),
    revokedAt: numberOrNull(row.revoked_at),
  });
}

/** The grant with this id, or null. */
export function* findGrant(id: string): Program<GrantRecord | null> {
  const [row] = yield q(`SELECT ${GRANT_COLUMNS} FROM jwks_oauth_grants WHERE id = ?`, id);
  return row === undefined ? null : toGrantRecord(row);
}

/** Revokes grant `id` at `now` and the unexpired access tokens recorded on its refresh tokens. */
export function* revokeGrant(id: string, now: number): Program<void> {
  yield q("UPDATE jwks_oauth_grants SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", now, id);
  yield q(
    `INSERT INTO jwks_oauth_revoked (jti, expires_at)
     SELECT access_jti, access_exp FROM jwks_oauth_refresh_tokens WHERE grant_id = ? AND access_exp > ?
     ON CONFLICT (jti) DO NOTHING`,
    id,
    now,
  );
}

/** Stores a new grant row (without a refresh token yet). */
export function* insertGrant(grant: GrantRecord): Program<void> {
  yield q(
    `INSERT INTO jwks_oauth_grants (${GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    grant.id,
    grant.clientId,
    grant.subject,
    grant.userId,
    grant.scope,
    JSON.stringify(grant.audience),
    grant.createdAt,
    grant.revokedAt,
  );
}
