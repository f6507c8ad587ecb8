/**
 * Verifies a JWT the way real consumers do: the key set comes from a remote JWKS through jose's
 * `createRemoteJWKSet` (exactly 200, redirects not followed, a timeout, at most 1 MiB by
 * default), then `jwtVerify` checks the signature and the claims with a clock tolerance: `exp`
 * is required unless told otherwise and `iat` may not be in the future. Every failure becomes
 * one stable reason and one line saying exactly why, with any value it echoes cut short. Time
 * and `fetch` are parameters.
 * @module
 */
import { readPrefix } from "../core/bytes.ts";
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from "jose";

/** Why a token was rejected: stable names for scripts (`verify --json`). */
export type VerifyFailure =
  | "malformed"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "missing_claim"
  | "invalid_claim"
  | "unknown_kid"
  | "ambiguous_kid"
  | "bad_signature"
  | "alg_not_allowed"
  | "jwks_unreachable"
  | "jwks_status"
  | "jwks_timeout"
  | "jwks_too_large"
  | "jwks_invalid";

/** The reasons that are about the key set's server rather than the token. */
export const JWKS_FAILURES: ReadonlySet<VerifyFailure> = new Set([
  "jwks_unreachable",
  "jwks_status",
  "jwks_timeout",
  "jwks_too_large",
  "jwks_invalid",
]);

/** The largest key set read by default (1 MiB): a real JWKS is a few KiB. */
export const MAX_JWKS_BYTES = 1024 * 1024;
/** How much of a value a message echoes. */
const MAX_ECHO = 80;

/** Options of {@linkcode verifyRemote}. */
export interface VerifyRemoteOptions {
  /** The JWKS URL. */
  jwks: URL;
  /** Expected `iss`, when given. */
  issuer?: string;
  /** Expected `aud` (one of the token's audiences), when given. */
  audience?: string;
  /** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. Default 60. */
  clockTolerance?: number;
  /** Unix milliseconds now. */
  now: number;
  /** How long the JWKS may take to answer, in ms. Default 5000. */
  timeoutMs?: number;
  /** Algorithms accepted; by default whatever the matching key allows. */
  algorithms?: readonly string[];
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
  /** Refuse a token without `exp`. Default true. */
  requireExp?: boolean;
  /** The most bytes of key set read. Default {@linkcode MAX_JWKS_BYTES}. */
  maxJwksBytes?: number;
}

/** A key set answer over the size limit. */
class JwksTooLarge extends Error {}

/** `response` with its body read whole, at most `limit` bytes; throws {@linkcode JwksTooLarge} beyond. */
async function bounded(response: Response, limit: number): Promise<Response> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await response.body?.cancel();
    throw new JwksTooLarge();
  }
  const body = response.body === null ? new Uint8Array(0) : await readPrefix(response.body, limit + 1);
  if (body.byteLength > limit) throw new JwksTooLarge();
  // 101, 204, 205 and 304 carry no body: a Response with one cannot be made for them.
  const empty = [101, 204, 205, 304].includes(response.status);
  return new Response(empty ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** A verified token, or why it is not one. */
export type VerifyOutcome =
  | { readonly valid: true; readonly header: ProtectedHeaderParameters; readonly claims: JWTPayload }
  | { readonly valid: false; readonly reason: VerifyFailure; readonly message: string };

function iso(seconds: unknown): string {
  return typeof seconds === "number" && Number.isFinite(seconds)
    ? new Date(seconds * 1000).toISOString().replace(".000Z", "Z")
    : JSON.stringify(seconds);
}

/** `value` as JSON, cut to a readable length: a 200 KB kid is not echoed whole. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= MAX_ECHO ? text : `${text.slice(0, MAX_ECHO)}… (${text.length} characters)`;
}

function quoted(value: unknown): string {
  if (!Array.isArray(value)) return shown(value);
  const items = value.slice(0, 5).map(shown).join(", ");
  return value.length > 5 ? `${items} and ${value.length - 5} more` : items;
}

/** Verifies `token` against the key set at `options.jwks`. Never throws for a bad token. */
export async function verifyRemote(token: string, options: VerifyRemoteOptions): Promise<VerifyOutcome> {
  const fail = (reason: VerifyFailure, message: string): VerifyOutcome => ({ valid: false, reason, message });
  const tolerance = options.clockTolerance ?? 60;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxJwksBytes = options.maxJwksBytes ?? MAX_JWKS_BYTES;
  const url = shown(options.jwks.href).slice(1, -1);

  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch (error) {
    return fail(
      "malformed",
      `Malformed token: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`,
    );
  }

  let status: number | null = null;
  const fetchImpl = options.fetch ?? fetch;
  const jwks = createRemoteJWKSet(options.jwks, {
    timeoutDuration: timeoutMs,
    // One command, one fetch: never refetch on an unknown kid.
    cooldownDuration: 60_000,
    [customFetch]: async (input: string | URL | Request, init?: RequestInit) => {
      const response = await fetchImpl(input, init);
      status = response.status;
      return await bounded(response, maxJwksBytes);
    },
  });
  const kid = header.kid === undefined ? "(none)" : shown(header.kid);
  const now = Math.floor(options.now / 1000);
  try {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      currentDate: new Date(options.now),
      clockTolerance: tolerance,
      ...(options.requireExp === false ? {} : { requiredClaims: ["exp"] }),
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.audience === undefined ? {} : { audience: options.audience }),
      ...(options.algorithms === undefined ? {} : { algorithms: [...options.algorithms] }),
    });
    if (typeof payload.iat === "number" && payload.iat > now + tolerance) {
      return fail(
        "invalid_claim",
        `Token was issued in the future, at ${iso(payload.iat)} (now ${iso(now)}, clock tolerance ${tolerance} s)`,
      );
    }
    return { valid: true, header: protectedHeader, claims: payload };
  } catch (error) {
    if (error instanceof JwksTooLarge || (error instanceof Error && error.cause instanceof JwksTooLarge)) {
      return fail("jwks_too_large", `The key set at ${url} is larger than ${maxJwksBytes} bytes`);
    }
    if (error instanceof errors.JWTExpired) {
      return fail(
        "expired",
        `Token expired at ${iso(claims.exp)} (now ${iso(now)}, clock tolerance ${tolerance} s)`,
      );
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      const { claim, reason } = error;
      const value = claims[claim];
      if (reason === "missing") {
        const hint = claim === "exp" ? " (a token that never expires; --no-require-exp accepts it)" : "";
        return fail("missing_claim", `Token has no "${claim}" claim${hint}`);
      }
      if (claim === "iss" && reason === "check_failed") {
        return fail("wrong_issuer", `Wrong issuer ${quoted(value)}, expected ${shown(options.issuer)}`);
      }
      if (claim === "aud" && reason === "check_failed") {
        return fail("wrong_audience", `Wrong audience ${quoted(value)}, expected ${shown(options.audience)}`);
      }
      if (claim === "nbf" && reason === "check_failed") {
        return fail("not_yet_valid", `Token is not valid before ${iso(value)} (now ${iso(now)})`);
      }
      return fail("invalid_claim", `Invalid ${shown(claim)} claim: ${error.message.slice(0, 200)}`);
    }
    if (error instanceof errors.JWKSNoMatchingKey) {
      return fail(
        "unknown_kid",
        header.kid === undefined
          ? `No key in ${url} matches the token (it has no kid)`
          : `Unknown kid ${kid}: no such key in ${url} (revoked, expired, or from another issuer)`,
      );
    }
    if (error instanceof errors.JWKSMultipleMatchingKeys) {
      return fail("ambiguous_kid", `Several keys in ${url} match kid ${kid}`);
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return fail("bad_signature", `Bad signature: the token was altered or not signed by the key ${kid}`);
    }
    if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
      return fail("alg_not_allowed", `Algorithm ${shown(header.alg)} is not allowed: ${error.message.slice(0, 200)}`);
    }
    if (error instanceof errors.JWKSTimeout) {
      return fail("jwks_timeout", `The key set at ${url} did not answer within ${timeoutMs} ms`);
    }
    if (error instanceof errors.JWKSInvalid || error instanceof errors.JWKInvalid) {
      return fail("jwks_invalid", `The key set at ${url} is not a valid JSON Web Key Set`);
    }
    if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
      return fail("malformed", `Malformed token: ${error.message.slice(0, 200)}`);
    }
    if (error instanceof errors.JOSEError && status !== null) {
      if (status !== 200) {
        const redirect = status >= 300 && status < 400 ? "; redirects are not followed" : "";
        return fail("jwks_status", `The key set at ${url} answered ${status}, expected 200${redirect}`);
      }
      return fail("jwks_invalid", `The key set at ${url} is not JSON`);
    }
    if (status === null) {
      const detail = (error instanceof Error ? error.message : String(error)).slice(0, 200);
      return fail("jwks_unreachable", `Cannot fetch the key set at ${url}: ${detail}`);
    }
    throw error;
  }
}
