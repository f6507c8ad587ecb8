/**
 * Authorization codes (RFC 6749 §4.1.2) and PKCE (RFC 7636): a code is 256 random bits, lives
 * at most {@linkcode CODE_TTL} seconds, and is stored only as its SHA-256; `S256` is the only
 * challenge method (`plain` is refused, RFC 9700 §2.1.1). Pure functions over strings; storing
 * and claiming codes is the OAuth store's, the rules of redeeming them the grant's.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** How long a code may be redeemed, seconds (RFC 6749 §4.1.2 recommends at most 10 minutes). */
export const CODE_TTL = 60;

/** A PKCE `code_challenge` or S256 output: 43 base64url characters (32 bytes). */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** A `code_verifier` (RFC 7636 §4.1): 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A new authorization code: 256 random bits, base64url. */
export function newCode(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The stored form of a code: hex SHA-256. */
export function codeHash(code: string): string {
  return createHash("sha256").update(code, "utf8").digest("hex");
}

/** True when `challenge` has the shape of an S256 challenge. */
export function isS256Challenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

/** The S256 challenge of `verifier`: base64url(SHA-256(ASCII(verifier))). */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** True when `verifier` is well-formed and its S256 challenge is `challenge` (constant time). */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier) || !CHALLENGE.test(challenge)) return false;
  return timingSafeEqual(new TextEncoder().encode(s256(verifier)), new TextEncoder().encode(challenge));
}
