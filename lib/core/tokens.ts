/**
 * Issues JWTs: the only importer of jose for signing. A token carries `alg`, `kid` and
 * `typ: "JWT"` in its header and `iss`, `sub`, `iat`, `exp`, `jti` (and `aud` when configured)
 * as claims. A token never outlives the key that signed it. Time is a parameter.
 * @module
 */
import { SignJWT } from "jose";
import { AppError } from "./errors.ts";
import type { KeyView, SigningKey } from "./key_ring.ts";

/** Options of {@linkcode issueToken}. */
export interface IssueOptions {
  /** `iss` claim. */
  issuer: string;
  /** Token lifetime in seconds. */
  ttl: number;
  /** Unix seconds now. */
  now: number;
  /** `aud` claim, when set. */
  audience?: string | null;
  /** `jti` claim; a random UUID by default. */
  jti?: string;
  /** Sign with the newest expired key and make the token already expired. Default false. */
  expired?: boolean;
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
  // a second before its key did (or before now), so it is expired on arrival.
  const exp = options.expired ? Math.min(now, key.exp) - 1 : Math.min(now + ttl, key.exp);
  const iat = options.expired ? exp - ttl : now;
  const payload: Record<string, unknown> = { ...options.claims };
  if (options.audience) payload.aud = options.audience;
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setIssuer(options.issuer)
    .setSubject(subject)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(options.jti ?? crypto.randomUUID())
    .sign(key.key);
  return { token, kid: key.kid, alg: key.alg, exp };
}

/**
 * Signs `claims` exactly as given with `key` (the `sign` command: no claim is added or
 * overridden). The header is `alg`, `kid` and `typ: "JWT"`.
 */
export async function signClaims(
  key: CryptoKey,
  header: { readonly alg: string; readonly kid: string },
  claims: Readonly<Record<string, unknown>>,
): Promise<string> {
  return await new SignJWT({ ...claims }).setProtectedHeader({ alg: header.alg, kid: header.kid, typ: "JWT" })
    .sign(key);
}
