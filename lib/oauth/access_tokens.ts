/**
 * Access tokens as RFC 9068 JWTs: `typ: at+jwt`, claims `iss, sub, aud, exp, iat, jti,
 * client_id, scope`, signed by the key that signs `/auth` tokens. And their verification for
 * introspection, revocation and userinfo: a published key's signature, our issuer, `at+jwt`,
 * not expired at `now`, not revoked in the store. Tokens signed by a key no longer published,
 * by anyone else, or with another `iss` are simply not active.
 * @module
 */
import { createLocalJWKSet, type JWTPayload, jwtVerify } from "jose";
import type { JwksDocument, KeyView } from "../core/key_ring.ts";
import { type IssuedToken, issueToken } from "../core/tokens.ts";
import type { OAuthStore } from "../store/oauth_ports.ts";
import type { MockControls } from "./mock.ts";

/** What an access token is for. */
export interface AccessTokenRequest {
  readonly clientId: string;
  readonly subject: string;
  /** Granted scope values. */
  readonly scope: readonly string[];
  readonly audience: readonly string[];
  /** `jti`; a random UUID by default. */
  readonly jti?: string;
}

/** How to sign: the key view, the issuer, the lifetime, the time, and the mock controls. */
export interface AccessTokenOptions {
  readonly view: KeyView;
  readonly issuer: string;
  /** Seconds. */
  readonly ttl: number;
  /** Unix seconds. */
  readonly now: number;
  /** Open mode's per-request controls (`ttl`, `nbf`, `iss`, extra claims); none in password mode. */
  readonly mock?: MockControls | null;
  /** Sign with the newest expired key, `expiredBy` seconds in the past at least. */
  readonly expired?: boolean;
  readonly expiredBy?: number;
}

/** Signs an access token. */
export function issueAccessToken(request: AccessTokenRequest, options: AccessTokenOptions): Promise<IssuedToken> {
  const mock = options.mock ?? {};
  const claims: Record<string, unknown> = { ...mock.claims, client_id: request.clientId };
  if (request.scope.length > 0) claims.scope = request.scope.join(" ");
  return issueToken(options.view, request.subject, {
    typ: "at+jwt",
    issuer: mock.issuer ?? options.issuer,
    audience: request.audience,
    ttl: mock.ttl ?? options.ttl,
    now: options.now,
    ...(request.jti === undefined ? {} : { jti: request.jti }),
    ...(mock.notBefore === undefined ? {} : { notBefore: mock.notBefore }),
    ...(options.expired ? { expired: true, expiredBy: options.expiredBy ?? 1 } : {}),
    claims,
  });
}

const keySets = new WeakMap<JwksDocument, ReturnType<typeof createLocalJWKSet>>();

/** True when `token` has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** Options of {@linkcode verifyAccessToken}. */
export interface VerifyOptions {
  readonly view: KeyView;
  readonly issuer: string;
  /** Unix seconds. */
  readonly now: number;
  readonly store: Pick<OAuthStore, "isAccessTokenRevoked">;
}

/** The claims of `token` when it is one of our active access tokens at `now`, else null. */
export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<JWTPayload | null> {
  if (token.length > 16 * 1024 || !looksLikeJwt(token)) return null;
  const jwks = options.view.jwks;
  let keys = keySets.get(jwks);
  if (keys === undefined) keySets.set(jwks, keys = createLocalJWKSet({ keys: [...jwks.keys] }));
  const algorithms = [...new Set(jwks.keys.map((key) => String(key.alg)))];
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: options.issuer,
      typ: "at+jwt",
      algorithms,
      currentDate: new Date(options.now * 1000),
      requiredClaims: ["exp", "jti", "sub", "client_id"],
    }));
  } catch {
    return null;
  }
  if (typeof payload.jti !== "string" || await options.store.isAccessTokenRevoked(payload.jti)) return null;
  return payload;
}
