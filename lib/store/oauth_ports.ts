/**
 * The OAuth storage port: clients, grants (a refresh-token family: who, for which client, what
 * scope) with their rotating refresh tokens stored hashed, authorization codes stored hashed,
 * and revoked access-token `jti`s kept until the token's `exp`. Every instance sharing the database sees a change at once. What the
 * rows mean (hashing, rotation, reuse detection) lives in `lib/oauth/`; SQL in `oauth_sql.ts`.
 * @module
 */

/** An OAuth client, as stored. */
export interface ClientRecord {
  /** The `client_id`. */
  readonly id: string;
  readonly name: string;
  /** SHA-256 of the client secret; null for a public client (it has no secret). */
  readonly secretHash: Uint8Array | null;
  /** Grant types it may use at `/token`. */
  readonly grantTypes: readonly string[];
  /** Scopes it may ask for. */
  readonly scopes: readonly string[];
  /** Redirect URIs, compared exactly (for the authorization endpoint). */
  readonly redirectUris: readonly string[];
  /** Audiences (`aud`) it may ask for with `resource` or `audience`. */
  readonly audiences: readonly string[];
  /** Unix seconds. */
  readonly createdAt: number;
}

/** A grant: the family of refresh tokens issued from one login, and what they may mint. */
export interface GrantRecord {
  readonly id: string;
  readonly clientId: string;
  /** `sub` of the tokens. */
  readonly subject: string;
  /** The registered user, or null (open mode's ad-hoc usernames). */
  readonly userId: number | null;
  /** Space-separated scope, as granted. */
  readonly scope: string;
  /** `aud` of the access tokens. */
  readonly audience: readonly string[];
  /** Unix seconds. */
  readonly createdAt: number;
  /** Unix seconds, or null while the grant stands. */
  readonly revokedAt: number | null;
}

/** A refresh token to store: only its hash, never the token. */
export interface RefreshTokenInsert {
  /** Hex SHA-256 of the token. */
  readonly hash: string;
  readonly grantId: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The access token issued with it, revoked with the grant. */
  readonly accessJti: string;
  readonly accessExp: number;
}

/**
 * What presenting a refresh token did: `ok` claimed it (it can never be used again); `reused`
 * means it had been used before, so its whole grant was revoked now; `invalid` is anything else
 * (unknown, expired, revoked).
 */
export type RefreshUse =
  | { readonly status: "ok"; readonly grant: GrantRecord }
  | { readonly status: "reused"; readonly grant: GrantRecord }
  | { readonly status: "invalid" };

/** A refresh token that may still be used, with its grant. */
export interface ActiveRefreshToken {
  readonly grant: GrantRecord;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** An authorization code (RFC 6749 §4.1.2), as stored: only its hash. */
export interface AuthorizationCodeRecord {
  /** Hex SHA-256 of the code. */
  readonly hash: string;
  readonly clientId: string;
  /** The `redirect_uri` of the authorization request, which `/token` must repeat exactly. */
  readonly redirectUri: string;
  /** The PKCE S256 `code_challenge`, or null when the request sent none (confidential clients only). */
  readonly codeChallenge: string | null;
  /** Space-separated granted scope. */
  readonly scope: string;
  readonly nonce: string | null;
  readonly subject: string;
  readonly userId: number | null;
  /** Extra ID-token claims (open mode's claims box); `{}` for none. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** When the user signed in, unix seconds (`auth_time`). */
  readonly authTime: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A stored code and whether it was redeemed. */
export interface StoredCode extends AuthorizationCodeRecord {
  /** Unix seconds, or null while unused. */
  readonly usedAt: number | null;
}

/** What redeeming a code issues, recorded with the claim so that a replay can revoke it. */
export interface CodeRedemption {
  readonly accessJti: string;
  /** An upper bound of the access token's `exp`. */
  readonly accessExp: number;
  /** The refresh-token family to start (stored with the claim), or null for none. */
  readonly grant: GrantRecord | null;
}

/** What one purge removed. */
export interface OAuthPurge {
  readonly revokedJtis: number;
  readonly refreshTokens: number;
  readonly grants: number;
  readonly codes: number;
}

/** Persistent OAuth state. Times are unix seconds. */
export interface OAuthStore {
  /** Stores a new client (its id must be new). */
  createClient(client: ClientRecord): Promise<void>;
  findClient(id: string): Promise<ClientRecord | null>;
  /** Every client, oldest first. */
  listClients(): Promise<ClientRecord[]>;
  /** Removes the client and revokes its grants at `now`. False when there was no such client. */
  removeClient(id: string, now: number): Promise<boolean>;
  /** Stores a grant and its first refresh token, in one transaction. */
  createGrant(grant: GrantRecord, token: RefreshTokenInsert): Promise<void>;
  /** Claims the refresh token with this hash at `now` (see {@linkcode RefreshUse}). */
  useRefreshToken(hash: string, now: number): Promise<RefreshUse>;
  /**
   * Adds the successor of a claimed refresh token. False when its grant was revoked meanwhile
   * (the token is stored, but can never be used).
   */
  addRefreshToken(token: RefreshTokenInsert): Promise<boolean>;
  /** The refresh token with this hash when it may still be used at `now`, else null. */
  findRefreshToken(hash: string, now: number): Promise<ActiveRefreshToken | null>;
  /** Revokes a grant at `now`: its refresh tokens, and the unexpired access tokens issued with them. */
  revokeGrant(id: string, now: number): Promise<void>;
  /** Records the access token `jti` as revoked until `expiresAt`. Idempotent. */
  revokeAccessToken(jti: string, expiresAt: number): Promise<void>;
  /** True when `jti` was revoked (and has not been purged). */
  isAccessTokenRevoked(jti: string): Promise<boolean>;
  /** Stores a new authorization code. */
  createCode(code: AuthorizationCodeRecord): Promise<void>;
  /** The code with this hash, used or not, expired or not (until purged), else null. */
  findCode(hash: string): Promise<StoredCode | null>;
  /**
   * Claims the unused, unexpired code with this hash at `now`, recording `redemption` (and
   * storing its grant) in the same transaction. False when it was already used or expired.
   */
  useCode(hash: string, now: number, redemption: CodeRedemption): Promise<boolean>;
  /** Revokes what the code with this hash issued (its access token `jti` and its grant) at `now`. */
  revokeCode(hash: string, now: number): Promise<void>;
  /**
   * Deletes what can no longer matter at `now`: revoked `jti`s past their `exp`, refresh tokens
   * past their expiry, grants left without a refresh token, and codes past their expiry whose
   * access token (if any) has expired too.
   */
  purgeOAuth(now: number): Promise<OAuthPurge>;
}
