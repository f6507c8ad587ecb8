/**
 * The one place a grant turns into tokens: it signs the access token and, when the grant allows
 * one, issues a refresh token (a new grant, or the successor of a rotated one), and answers the
 * RFC 6749 §5.1 body. Refresh tokens are 256 random bits, stored only as their SHA-256, and
 * recorded with the access token issued beside them so revoking the grant revokes both.
 * Every grant module ends here; the authorization-code grant asks for an `id_token` beside.
 * @module
 */
import { createHash } from "node:crypto";
import type { KeyView } from "../core/key_ring.ts";
import type { GrantRecord, OAuthStore } from "../store/oauth_ports.ts";
import { issueAccessToken } from "./access_tokens.ts";
import type { AuthenticatedClient } from "./client_auth.ts";
import { OAuthError } from "./errors.ts";
import { issueIdToken } from "./id_tokens.ts";
import type { MockControls } from "./mock.ts";

/** What issuing needs from the server. */
export interface IssueDeps {
  /** The key view and the time in unix seconds (a `KeyManager`). */
  readonly keys: { view(): KeyView; now(): number };
  readonly store: OAuthStore;
  readonly issuer: string;
  /** Access token lifetime, seconds. */
  readonly tokenTtl: number;
  /** Refresh token lifetime, seconds (each rotation starts a new one). */
  readonly refreshTtl: number;
  /** How far in the past (at least) `?expired=true` puts `exp`: clock skew + 60 s. */
  readonly expiredBy: number;
}

/** What a grant decided: who, for which client, with what, and whether to refresh. */
export interface Issuance {
  readonly client: AuthenticatedClient;
  readonly subject: string;
  readonly userId: number | null;
  /** Scope of the access token. */
  readonly scope: readonly string[];
  readonly audience: readonly string[];
  /** No refresh token; a new grant (with its scope); or the grant a rotated refresh token continues. */
  readonly refresh: null | { readonly scope: readonly string[] } | { readonly grant: GrantRecord };
  readonly mock: MockControls | null;
  readonly expired: boolean;
  /** The access token's `jti`, when the grant recorded it beforehand; random otherwise. */
  readonly jti?: string;
  /** Sign an ID token too (the `openid` scope of an authorization code): the sign-in's facts. */
  readonly identity?: {
    readonly authTime: number;
    readonly nonce: string | null;
    readonly claims: Readonly<Record<string, unknown>>;
  } | null;
}

/** The token response of RFC 6749 §5.1. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: "Bearer";
  readonly expires_in: number;
  readonly scope: string;
  readonly refresh_token?: string;
  readonly [extra: string]: unknown;
}

/** A new opaque token: 256 random bits, base64url. */
export function randomToken(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The stored form of a refresh token: hex SHA-256. */
export function refreshTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Signs the tokens for `issuance` and answers the token response. */
export async function issueTokens(deps: IssueDeps, issuance: Issuance): Promise<TokenResponse> {
  const now = deps.keys.now();
  const jti = issuance.jti ?? crypto.randomUUID();
  const issued = await issueAccessToken({
    clientId: issuance.client.id,
    subject: issuance.subject,
    scope: issuance.scope,
    audience: issuance.audience,
    jti,
  }, {
    view: deps.keys.view(),
    issuer: deps.issuer,
    ttl: deps.tokenTtl,
    now,
    mock: issuance.mock,
    expired: issuance.expired,
    expiredBy: deps.expiredBy,
  });
  const body: Record<string, unknown> = {
    access_token: issued.token,
    token_type: "Bearer",
    expires_in: Math.max(0, issued.exp - now),
    scope: issuance.scope.join(" "),
  };
  if (issuance.identity) {
    const idToken = await issueIdToken({
      clientId: issuance.client.id,
      subject: issuance.subject,
      authTime: issuance.identity.authTime,
      nonce: issuance.identity.nonce,
      accessToken: issued.token,
      claims: issuance.identity.claims,
    }, { view: deps.keys.view(), issuer: deps.issuer, ttl: deps.tokenTtl, now });
    body.id_token = idToken.token;
  }
  // An already-expired access token is for testing verifiers: nothing should refresh it.
  if (issuance.refresh === null || issuance.expired) return body as TokenResponse;
  const token = randomToken();
  const stored = {
    hash: refreshTokenHash(token),
    createdAt: now,
    expiresAt: now + deps.refreshTtl,
    accessJti: jti,
    accessExp: issued.exp,
  };
  if ("grant" in issuance.refresh) {
    if (!await deps.store.addRefreshToken({ ...stored, grantId: issuance.refresh.grant.id })) {
      await deps.store.revokeAccessToken(jti, issued.exp);
      throw new OAuthError("invalid_grant", "The grant was revoked");
    }
  } else {
    const grant: GrantRecord = {
      id: crypto.randomUUID(),
      clientId: issuance.client.id,
      subject: issuance.subject,
      userId: issuance.userId,
      scope: issuance.refresh.scope.join(" "),
      audience: [...issuance.audience],
      createdAt: now,
      revokedAt: null,
    };
    await deps.store.createGrant(grant, { ...stored, grantId: grant.id });
  }
  body.refresh_token = token;
  return body as TokenResponse;
}
