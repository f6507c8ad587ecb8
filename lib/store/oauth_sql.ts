/**
 * The {@linkcode OAuthStore} port over the shared SQL core, written once for every backend: row
 * ↔ record mapping for clients and grants, refresh-token rotation with reuse detection (a used
 * token presented again revokes its grant and the access tokens issued under it), revoked
 * `jti`s, authorization codes (`oauth_codes_sql.ts`), and the purge. List columns are JSON text. All SQL uses bound parameters; the tables
 * are `jwks_oauth_*` (migration 3 in `schema.ts`; see `docs/storage.md`).
 * @module
 */
import type {
  ActiveRefreshToken,
  AuthorizationCodeRecord,
  ClientRecord,
  OAuthPurge,
  OAuthStore,
  RefreshTokenInsert,
  RefreshUse,
  StoredCode,
} from "./oauth_ports.ts";
import { createCode, findCode, purgeCodes, revokeCode, useCode } from "./oauth_codes_sql.ts";
import { findGrant, insertGrant, revokeGrant } from "./oauth_grants_sql.ts";
import { bytes, type Program, q, type Row, type RunOptions } from "./sql.ts";

/** Runs a program on the store's driver, mapping driver failures to public errors. */
export type RunSql = <T>(program: Program<T>, options?: RunOptions) => Promise<T>;

function list(value: unknown): readonly string[] {
  const parsed = JSON.parse(String(value));
  return Object.freeze(Array.isArray(parsed) ? parsed.map(String) : []);
}

/** A `jwks_oauth_clients` row as a {@linkcode ClientRecord}. */
export function toClientRecord(row: Row): ClientRecord {
  return Object.freeze({
    id: String(row.id),
    name: String(row.name),
    secretHash: row.secret_hash === null || row.secret_hash === undefined ? null : bytes(row.secret_hash),
    grantTypes: list(row.grant_types),
    scopes: list(row.scopes),
    redirectUris: list(row.redirect_uris),
    audiences: list(row.audiences),
    createdAt: Number(row.created_at),
  });
}

const CLIENT_COLUMNS = "id, name, secret_hash, grant_types, scopes, redirect_uris, audiences, created_at";

function* insertRefreshToken(token: RefreshTokenInsert): Program<void> {
  yield q(
    `INSERT INTO jwks_oauth_refresh_tokens (token_hash, grant_id, created_at, expires_at, access_jti, access_exp)
     VALUES (?, ?, ?, ?, ?, ?)`,
    token.hash,
    token.grantId,
    token.createdAt,
    token.expiresAt,
    token.accessJti,
    token.accessExp,
  );
}

/**
 * Claims a refresh token: one conditional UPDATE, so of two requests racing with the same token
 * exactly one claims it and the other sees a reuse.
 */
export function* useRefreshToken(hash: string, now: number): Program<RefreshUse> {
  const [claimed] = yield q(
    `UPDATE jwks_oauth_refresh_tokens SET used_at = ?
      WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
        AND grant_id IN (SELECT id FROM jwks_oauth_grants WHERE revoked_at IS NULL)
     RETURNING grant_id`,
    now,
    hash,
    now,
  );
  if (claimed !== undefined) {
    const grant = yield* findGrant(String(claimed.grant_id));
    return grant === null ? { status: "invalid" } : { status: "ok", grant };
  }
  const [row] = yield q(
    "SELECT grant_id, used_at, expires_at FROM jwks_oauth_refresh_tokens WHERE token_hash = ?",
    hash,
  );
  if (row === undefined || row.used_at === null || Number(row.expires_at) <= now) return { status: "invalid" };
  const grant = yield* findGrant(String(row.grant_id));
  if (grant === null) return { status: "invalid" };
  // A rotated token came back: whoever holds it, the family is no longer trustworthy (RFC 9700 §4.14.2).
  yield* revokeGrant(grant.id, now);
  return { status: "reused", grant: { ...grant, revokedAt: grant.revokedAt ?? now } };
}

/** The {@linkcode OAuthStore} over `run`. */
export function sqlOAuthStore(run: RunSql): OAuthStore {
  return {
    createClient(client) {
      // Ids are 128 random bits: a collision is a failure like any other, not a user's conflict.
      return run((function* (): Program<void> {
        yield q(
          `INSERT INTO jwks_oauth_clients (${CLIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          client.id,
          client.name,
          client.secretHash,
          JSON.stringify(client.grantTypes),
          JSON.stringify(client.scopes),
          JSON.stringify(client.redirectUris),
          JSON.stringify(client.audiences),
          client.createdAt,
        );
      })());
    },
    findClient(id) {
      return run(
        (function* (): Program<ClientRecord | null> {
          const [row] = yield q(`SELECT ${CLIENT_COLUMNS} FROM jwks_oauth_clients WHERE id = ?`, id);
          return row === undefined ? null : toClientRecord(row);
        })(),
        { batched: true },
      );
    },
    listClients() {
      return run((function* (): Program<ClientRecord[]> {
        const rows = yield q(`SELECT ${CLIENT_COLUMNS} FROM jwks_oauth_clients ORDER BY created_at, id`);
        return rows.map(toClientRecord);
      })());
    },
    removeClient(id, now) {
      return run(
        (function* (): Program<boolean> {
          const deleted = yield q("DELETE FROM jwks_oauth_clients WHERE id = ? RETURNING id", id);
          const grants = yield q("SELECT id FROM jwks_oauth_grants WHERE client_id = ? AND revoked_at IS NULL", id);
          for (const grant of grants) yield* revokeGrant(String(grant.id), now);
          return deleted.length > 0;
        })(),
        { atomic: true },
      );
    },
    createGrant(grant, token) {
      return run(
        (function* (): Program<void> {
          yield* insertGrant(grant);
          yield* insertRefreshToken(token);
        })(),
        { atomic: true },
      );
    },
    useRefreshToken(hash, now) {
      return run(useRefreshToken(hash, now), { atomic: true });
    },
    addRefreshToken(token) {
      return run(
        (function* (): Program<boolean> {
          yield* insertRefreshToken(token);
          // Checked after the insert: a revocation that commits later revokes this token too.
          const grant = yield* findGrant(token.grantId);
          return grant !== null && grant.revokedAt === null;
        })(),
        { atomic: true },
      );
    },
    findRefreshToken(hash, now) {
      // Batched, which also puts its two reads in one snapshot.
      return run(
        (function* (): Program<ActiveRefreshToken | null> {
          const [row] = yield q(
            `SELECT grant_id, created_at, expires_at FROM jwks_oauth_refresh_tokens
            WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
            hash,
            now,
          );
          if (row === undefined) return null;
          const grant = yield* findGrant(String(row.grant_id));
          if (grant === null || grant.revokedAt !== null) return null;
          return { grant, createdAt: Number(row.created_at), expiresAt: Number(row.expires_at) };
        })(),
        { batched: true },
      );
    },
    revokeGrant(id, now) {
      return run(revokeGrant(id, now), { atomic: true });
    },
    revokeAccessToken(jti, expiresAt) {
      return run((function* (): Program<void> {
        yield q(
          "INSERT INTO jwks_oauth_revoked (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING",
          jti,
          expiresAt,
        );
      })());
    },
    isAccessTokenRevoked(jti) {
      return run(
        (function* (): Program<boolean> {
          const [row] = yield q("SELECT 1 AS hit FROM jwks_oauth_revoked WHERE jti = ?", jti);
          return row !== undefined;
        })(),
        { batched: true },
      );
    },
    createCode(code: AuthorizationCodeRecord) {
      return run(createCode(code));
    },
    findCode(hash): Promise<StoredCode | null> {
      return run(findCode(hash));
    },
    useCode(hash, now, redemption) {
      return run(useCode(hash, now, redemption), { atomic: true });
    },
    revokeCode(hash, now) {
      return run(revokeCode(hash, now), { atomic: true });
    },
    purgeOAuth(now) {
      return run(
        (function* (): Program<OAuthPurge> {
          const jtis = yield q("DELETE FROM jwks_oauth_revoked WHERE expires_at <= ? RETURNING jti", now);
          const tokens = yield q(
            "DELETE FROM jwks_oauth_refresh_tokens WHERE expires_at <= ? RETURNING token_hash",
            now,
          );
          const grants = yield q(
            `DELETE FROM jwks_oauth_grants
            WHERE NOT EXISTS (SELECT 1 FROM jwks_oauth_refresh_tokens r WHERE r.grant_id = jwks_oauth_grants.id)
           RETURNING id`,
          );
          const codes = yield* purgeCodes(now);
          return { revokedJtis: jtis.length, refreshTokens: tokens.length, grants: grants.length, codes };
        })(),
        { atomic: true },
      );
    },
  };
}
