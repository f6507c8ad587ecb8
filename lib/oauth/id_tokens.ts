/**
 * ID tokens (OpenID Connect Core §2, §3.1.3.6): `iss, sub, aud = client_id, exp, iat,
 * auth_time`, `nonce` when the request sent one, and `at_hash` (the left half of the access
 * token's hash, with the SHA-2 size of the signing algorithm, base64url), plus the extra claims
 * of open mode's claims box. Signed by the active key with header `typ: "JWT"` and its `kid`.
 * @module
 */
import { createHash } from "node:crypto";
import { AppError } from "../core/errors.ts";
import type { KeyView } from "../core/key_ring.ts";
import { type IssuedToken, issueToken } from "../core/tokens.ts";

/** The registered claims the server sets in every token it signs. */
export const SIGNED_CLAIMS: readonly string[] = Object.freeze(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);

/** The claims of an ID token's own (OIDC Core §2) that the server issues. */
export const ID_TOKEN_OWN_CLAIMS: readonly string[] = Object.freeze(["auth_time", "nonce", "at_hash"]);

/** Claims an ID token's extra claims may not set: the server sets them (or could, in OIDC). */
export const ID_TOKEN_CLAIMS: readonly string[] = Object.freeze([
  ...SIGNED_CLAIMS,
  ...ID_TOKEN_OWN_CLAIMS,
  "c_hash",
  "azp",
  "sid",
]);

/** Who the ID token is about and for. */
export interface IdTokenRequest {
  readonly clientId: string;
  readonly subject: string;
  /** Unix seconds the user signed in. */
  readonly authTime: number;
  readonly nonce: string | null;
  /** The access token issued beside it, for `at_hash`. */
  readonly accessToken: string;
  /** Extra claims; names in {@linkcode ID_TOKEN_CLAIMS} are dropped. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** How to sign it. */
export interface IdTokenOptions {
  readonly view: KeyView;
  readonly issuer: string;
  /** Seconds. */
  readonly ttl: number;
  /** Unix seconds. */
  readonly now: number;
}

const HASHES: Readonly<Record<string, string>> = Object.freeze({
  RS256: "sha256",
  PS256: "sha256",
  ES256: "sha256",
  // Ed25519 signs with SHA-512 inside, so OpenID Connect's at_hash for EdDSA uses SHA-512.
  EdDSA: "sha512",
});

/** `at_hash` of `accessToken` for a token signed with `alg` (OIDC Core §3.1.3.6). */
export function atHash(accessToken: string, alg: string): string {
  const name = HASHES[alg] ?? (/^[A-Z]{2}(256|384|512)$/.exec(alg) ? `sha${alg.slice(2)}` : null);
  if (name === null) throw new AppError("invalid_key", `No at_hash is defined for "${alg}"`);
  const digest = createHash(name).update(accessToken, "ascii").digest();
  return digest.subarray(0, digest.byteLength / 2).toString("base64url");
}

/** Signs the ID token for `request`. */
export function issueIdToken(request: IdTokenRequest, options: IdTokenOptions): Promise<IssuedToken> {
  const key = options.view.active;
  if (key === null) throw new AppError("no_signing_key", "No active signing key; try again shortly");
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.claims ?? {})) {
    if (!ID_TOKEN_CLAIMS.includes(name)) claims[name] = value;
  }
  claims.auth_time = request.authTime;
  if (request.nonce !== null) claims.nonce = request.nonce;
  claims.at_hash = atHash(request.accessToken, key.alg);
  return issueToken(options.view, request.subject, {
    typ: "JWT",
    issuer: options.issuer,
    audience: request.clientId,
    ttl: options.ttl,
    now: options.now,
    claims,
  });
}
