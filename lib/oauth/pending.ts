/**
 * What the login page carries between `GET /authorize` and its POST, so that nothing can be
 * tampered with: the checked authorization request, sealed as base64url JSON with an
 * HMAC-SHA-256 tag and an expiry; and the CSRF token, an HMAC of that sealed request bound to
 * a random cookie (double submit, RFC 6749 §10.12). Every comparison is constant time. The key
 * comes from the server's master secret, so every instance sharing it accepts the form.
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { PendingAuthorization } from "./authorize.ts";

/** How long a login page may be submitted, seconds. */
export const PENDING_TTL = 600;
/** The cookie the CSRF token is bound to. */
export const CSRF_COOKIE = "jwks_signin";

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** Seals and opens pending requests and makes and checks CSRF tokens. */
export interface FormSeal {
  /** The sealed form of `request`, valid until `now + PENDING_TTL` (unix seconds). */
  seal(request: PendingAuthorization, now: number): string;
  /** The request `sealed` holds, or null when it was tampered with, is malformed, or expired at `now`. */
  open(sealed: string, now: number): PendingAuthorization | null;
  /** The CSRF token for `sealed` under the cookie value `cookie`. */
  csrfToken(cookie: string, sealed: string): string;
  /** True when `token` is the CSRF token of `sealed` under `cookie` (constant time). */
  csrfMatches(cookie: string, sealed: string, token: string): boolean;
}

/** The key of the login form, derived from the master secret. */
export function formKey(masterSecret: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", masterSecret).update("jwks-server sign-in form v1").digest());
}

/** A new random cookie value for {@linkcode CSRF_COOKIE}. */
export function newCookieValue(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** True when `value` could be a cookie value this server made. */
export function isCookieValue(value: string): boolean {
  return COOKIE_VALUE.test(value);
}

function same(a: string, b: string): boolean {
  const [x, y] = [new TextEncoder().encode(a), new TextEncoder().encode(b)];
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}

function strings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function optional(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}

/** Makes the {@linkcode FormSeal} of `key`. */
export function formSeal(key: Uint8Array): FormSeal {
  const mac = (purpose: string, text: string) =>
    createHmac("sha256", key).update(`${purpose}\n${text}`).digest("base64url");
  return {
    seal(request, now) {
      const body = new TextEncoder().encode(JSON.stringify({ ...request, exp: now + PENDING_TTL }))
        .toBase64({ alphabet: "base64url", omitPadding: true });
      return `${body}.${mac("request", body)}`;
    },
    open(sealed, now) {
      const dot = sealed.indexOf(".");
      if (dot < 0 || sealed.length > 8192) return null;
      const body = sealed.slice(0, dot);
      if (!same(sealed.slice(dot + 1), mac("request", body))) return null;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(new TextDecoder().decode(Uint8Array.fromBase64(body, { alphabet: "base64url" })));
      } catch {
        return null;
      }
      const { clientId, redirectUri, scope, state, nonce, codeChallenge, exp } = value;
      if (typeof exp !== "number" || exp <= now) return null;
      if (typeof clientId !== "string" || typeof redirectUri !== "string" || !strings(scope)) return null;
      if (!optional(state) || !optional(nonce) || !optional(codeChallenge)) return null;
      return { clientId, redirectUri, scope, state, nonce, codeChallenge };
    },
    csrfToken: (cookie, sealed) => mac("csrf", `${cookie}\n${sealed}`),
    csrfMatches: (cookie, sealed, token) => isCookieValue(cookie) && same(token, mac("csrf", `${cookie}\n${sealed}`)),
  };
}
