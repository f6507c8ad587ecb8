/**
 * Issues JWTs. A token carries `alg`, `kid` and `typ` (`"JWT"`, or `"at+jwt"` for RFC 9068
 * access tokens) in its header and `iss`, `sub`, `iat`, `exp`, `jti` (and `aud`, `nbf` when
 * asked for) as claims; it never outlives the key that signed it. Builds the compact JWS itself
 * and signs through a `Signer`, so the private key can live in any backend (jose signs only with
 * keys it can see). Time is a parameter.
 * @module
 */
import { AppError } from "./errors.ts";
import { isAlg } from "./key_material.ts";
import type { KeyView, SigningKey } from "./key_ring.ts";
import { checkSigningInput, cryptoKeySigner, type Signer } from "./signer.ts";

/** Options of {@linkcode issueToken}. */
export interface IssueOptions {
  /** `iss` claim. */
  issuer: string;
  /** Token lifetime in seconds. */
  ttl: number;
  /** Unix seconds now. */
  now: number;
  /** `aud` claim, when set (one audience, or several). */
  audience?: string | readonly string[] | null;
  /** `nbf` claim, unix seconds, when set. */
  notBefore?: number;
  /** `jti` claim; a random UUID by default. */
  jti?: string;
  /** The header's `typ`. Default `"JWT"`. */
  typ?: string;
  /** Sign with the newest expired key and make the token already expired. Default false. */
  expired?: boolean;
  /**
   * With `expired`: how many seconds before now (at least) `exp` lies, so that verifiers with
   * a clock-skew leeway still see it expired. Default 1.
   */
  expiredBy?: number;
  /** Extra claims; the standard ones above win over these. */
  claims?: Readonly<Record<string, unknown>>;
}

/** An issued token and the facts a caller may report about it. */
export interface IssuedToken {
  readonly token: string;
  readonly kid: string;
  readonly alg: string;
  /** Unix seconds. */
  readonly exp: number;
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/** Encoded protected headers by alg, kid and typ: the same few strings for every token a key signs. */
const headers = new Map<string, string>();
/** Bounds {@linkcode headers}: keys rotate, and a caller's `typ` is not ours to count. */
const MAX_HEADERS = 64;

function encodedHeader(alg: string, kid: string, typ: string): string {
  const name = JSON.stringify([alg, kid, typ]);
  let encoded = headers.get(name);
  if (encoded === undefined) {
    if (headers.size >= MAX_HEADERS) headers.clear();
    encoded = base64url(encoder.encode(JSON.stringify({ alg, kid, typ })));
    headers.set(name, encoded);
  }
  return encoded;
}

/**
 * Builds and signs a compact JWS (RFC 7515 §7.1) of the JSON `claims`. The rules jose applied
 * hold: the claims are a plain object the caller never sees changed; `iss`, `sub` and `jti` are
 * strings and `iat`, `nbf`, `exp` finite numbers when present.
 */
async function compactJws(
  signer: Signer,
  header: { readonly alg: string; readonly kid: string; readonly typ?: string },
  claims: Readonly<Record<string, unknown>>,
): Promise<string> {
  if (header.alg !== signer.alg) {
    throw new AppError("invalid_key", `A key for ${signer.alg} cannot sign "${header.alg}"`);
  }
  if (!isPlainObject(claims)) throw new TypeError("JWT Claims Set MUST be an object");
  for (const claim of ["iss", "sub", "jti"]) {
    if (claim in claims && typeof claims[claim] !== "string") throw new TypeError(`"${claim}" claim must be a string`);
  }
  for (const claim of ["iat", "nbf", "exp"]) {
    const value = claims[claim];
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new TypeError(`"${claim}" claim must be a finite number`);
    }
  }
  const protectedHeader = encodedHeader(header.alg, header.kid, header.typ ?? "JWT");
  const payload = base64url(encoder.encode(JSON.stringify(claims)));
  const input = `${protectedHeader}.${payload}`;
  const data = encoder.encode(input);
  // Refused before any backend sees it: the same limit whichever backend holds the key.
  checkSigningInput(data);
  return `${input}.${base64url(await signer.sign(data))}`;
}

/** Signs a token for `subject` with the key `view` says signs now (or the expired key). */
export async function issueToken(view: KeyView, subject: string, options: IssueOptions): Promise<IssuedToken> {
  const key: SigningKey | null = options.expired ? view.expired : view.active;
  if (key === null) {
    throw new AppError(
      "no_signing_key",
      options.expired ? "No expired key is available to sign with" : "No active signing key; try again shortly",
    );
  }
  const { now, ttl } = options;
  // A normal token ends with its key's published life at the latest; an expired one ended
  // before its key did and `expiredBy` before now, so it is expired on arrival.
  const exp = options.expired
    ? Math.min(now - Math.max(1, options.expiredBy ?? 1), key.exp - 1)
    : Math.min(now + ttl, key.exp);
  const iat = options.expired ? exp - ttl : now;
  if (options.claims !== undefined && !isPlainObject(options.claims)) {
    throw new TypeError("JWT Claims Set MUST be an object");
  }
  // A copy of the top level, where the registered claims are set: the caller's object is never
  // changed. Nested values need no copy: the payload is serialized before anything can await.
  const payload: Record<string, unknown> = options.claims === undefined ? {} : { ...options.claims };
  if (typeof options.audience === "string" ? options.audience !== "" : options.audience?.length) {
    // One audience is a string, as most verifiers expect (RFC 7519 §4.1.3 allows both).
    const audience = typeof options.audience === "string" ? [options.audience] : options.audience!;
    payload.aud = audience.length === 1 ? audience[0] : [...audience];
  }
  if (options.notBefore !== undefined) payload.nbf = options.notBefore;
  payload.iss = options.issuer;
  payload.sub = subject;
  payload.iat = iat;
  payload.exp = exp;
  payload.jti = options.jti ?? crypto.randomUUID();
  const token = await compactJws(key.signer, { alg: key.alg, kid: key.kid, typ: options.typ ?? "JWT" }, payload);
  return { token, kid: key.kid, alg: key.alg, exp };
}

/**
 * Signs `claims` exactly as given with `key` (the `sign` command: no claim is added or
 * overridden). The header is `alg`, `kid` and `typ: "JWT"`. `key` is a `Signer`, or a
 * WebCrypto private key for `header.alg`.
 */
export async function signClaims(
  key: CryptoKey | Signer,
  header: { readonly alg: string; readonly kid: string },
  claims: Readonly<Record<string, unknown>>,
): Promise<string> {
  if (!isAlg(header.alg)) throw new AppError("invalid_key", `Unsupported algorithm "${header.alg}"`);
  const signer = key instanceof CryptoKey ? cryptoKeySigner(key, header.alg) : key;
  if (!isPlainObject(claims)) throw new TypeError("JWT Claims Set MUST be an object");
  return await compactJws(signer, header, claims);
}
