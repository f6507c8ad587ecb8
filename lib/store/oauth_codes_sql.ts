/**
 * The SQL of authorization codes (`jwks_oauth_codes`, migration 6), for `oauth_sql.ts`: store,
 * find, claim (one conditional UPDATE that also records what the redemption issues and starts
 * its grant, so a replay always finds something to revoke), revoke and purge. Codes are stored
 * only as their hash; what the rows mean lives in `lib/oauth/codes.ts`.
 * @module
 */
import type { AuthorizationCodeRecord, CodeRedemption, StoredCode } from "./oauth_ports.ts";
import { findGrant, insertGrant, revokeGrant } from "./oauth_grants_sql.ts";
import { numberOrNull, type Program, q, type Row } from "./sql.ts";

const COLUMNS = "code_hash, client_id, redirect_uri, code_challenge, scope, nonce, subject, user_id, claims, " +
  "auth_time, created_at, expires_at";

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function toStoredCode(row: Row): StoredCode {
  const claims = JSON.parse(String(row.claims));
  return Object.freeze({
    hash: String(row.code_hash),
    clientId: String(row.client_id),
    redirectUri: String(row.redirect_uri),
    codeChallenge: textOrNull(row.code_challenge),
    scope: String(row.scope),
    nonce: textOrNull(row.nonce),
    subject: String(row.subject),
    userId: numberOrNull(row.user_id),
    claims: typeof claims === "object" && claims !== null && !Array.isArray(claims) ? claims : {},
    authTime: Number(row.auth_time),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: numberOrNull(row.used_at),
  });
}

/** Stores a new code. */
export function* createCode(code: AuthorizationCodeRecord): Program<void> {
  yield q(
    `INSERT INTO jwks_oauth_codes (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    code.hash,
    code.clientId,
    code.redirectUri,
    code.codeChallenge,
    code.scope,
    code.nonce,
    code.subject,
    code.userId,
    JSON.stringify(code.claims),
    code.authTime,
    code.createdAt,
    code.expiresAt,
  );
}

/** The code with this hash, or null. */
export function* findCode(hash: string): Program<StoredCode | null> {
  const [row] = yield q(`SELECT ${COLUMNS}, used_at FROM jwks_oauth_codes WHERE code_hash = ?`, hash);
  return row === undefined ? null : toStoredCode(row);
}

/** Claims an unused, unexpired code, recording and starting what it issues. Run atomically. */
export function* useCode(hash: string, now: number, redemption: CodeRedemption): Program<boolean> {
  const claimed = yield q(
    `UPDATE jwks_oauth_codes SET used_at = ?, access_jti = ?, access_exp = ?, grant_id = ?
      WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?
     RETURNING code_hash`,
    now,
    redemption.accessJti,
    redemption.accessExp,
    redemption.grant?.id ?? null,
    hash,
    now,
  );
  if (claimed.length === 0) return false;
  if (redemption.grant !== null) yield* insertGrant(redemption.grant);
  return true;
}

/** Revokes the access token and the grant a redeemed code issued. Run atomically. */
export function* revokeCode(hash: string, now: number): Program<void> {
  const [row] = yield q("SELECT access_jti, access_exp, grant_id FROM jwks_oauth_codes WHERE code_hash = ?", hash);
  if (row === undefined) return;
  const jti = textOrNull(row.access_jti);
  const exp = numberOrNull(row.access_exp);
  if (jti !== null && exp !== null && exp > now) {
    yield q(
      "INSERT INTO jwks_oauth_revoked (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING",
      jti,
      exp,
    );
  }
  const grantId = textOrNull(row.grant_id);
  if (grantId !== null && (yield* findGrant(grantId)) !== null) yield* revokeGrant(grantId, now);
}

/** Deletes codes past their expiry whose access token has expired too; the count. */
export function* purgeCodes(now: number): Program<number> {
  const rows = yield q(
    `DELETE FROM jwks_oauth_codes
      WHERE expires_at <= ? AND (access_exp IS NULL OR access_exp <= ?)
     RETURNING code_hash`,
    now,
    now,
  );
  return rows.length;
}
