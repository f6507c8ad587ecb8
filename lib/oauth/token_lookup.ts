/**
 * What a presented token is, for introspection and revocation: one of our active access tokens
 * (a JWT, checked by `verifyAccessToken`), an active refresh token (by its hash), or nothing we
 * know. The two kinds never look alike, so `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1) is
 * not needed to find either.
 * @module
 */
import type { JWTPayload } from "jose";
import type { KeyView } from "../core/key_ring.ts";
import type { ActiveRefreshToken, OAuthStore } from "../store/oauth_ports.ts";
import { looksLikeJwt, verifyAccessToken } from "./access_tokens.ts";
import { refreshTokenHash } from "./issue.ts";

/** A token we issued that is still active. */
export type FoundToken =
  | { readonly kind: "access_token"; readonly claims: JWTPayload }
  | { readonly kind: "refresh_token"; readonly refresh: ActiveRefreshToken };

/** What a lookup needs. */
export interface LookupDeps {
  readonly keys: { view(): KeyView; now(): number };
  readonly store: OAuthStore;
  readonly issuer: string;
}

/** The longest token looked up; anything longer is no token of ours. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** The active token `token` is, or null. */
export async function findToken(token: string, deps: LookupDeps): Promise<FoundToken | null> {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  // Refresh tokens are base64url without dots, so a JWT-shaped token is never one.
  if (looksLikeJwt(token)) {
    const claims = await verifyAccessToken(token, {
      view: deps.keys.view(),
      issuer: deps.issuer,
      now: deps.keys.now(),
      store: deps.store,
    });
    return claims === null ? null : { kind: "access_token", claims };
  }
  const found = await deps.store.findRefreshToken(refreshTokenHash(token), deps.keys.now());
  return found === null ? null : { kind: "refresh_token", refresh: found };
}
