/**
 * The mock-issuer controls of open mode: per-request `aud`, `scope`, `ttl`, `nbf`, `iss` and
 * extra `claims` (a JSON object, or its JSON text in a form), so a developer can mint exactly
 * the token a test needs. Every input is bounded; extra claims may not name a claim that has
 * its own control or that the server sets. Password mode never calls this: the routes decide.
 * @module
 */
import { OAuthError } from "./errors.ts";
import { checkAudience, MAX_AUDIENCES, parseScope } from "./params.ts";

/** What a request asked the mock issuer for. Absent fields keep the server's defaults. */
export interface MockControls {
  readonly audience?: readonly string[];
  readonly scope?: readonly string[];
  /** Seconds, 1 to the configured maximum. */
  readonly ttl?: number;
  /** Unix seconds. */
  readonly notBefore?: number;
  readonly issuer?: string;
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * Claims `claims` may not set: those with a control of their own (`aud`, `scope`, `exp` via
 * `ttl`, `nbf`, `iss`, `sub` via the username or client), and those the server owns (`iat`,
 * `jti`, `client_id`).
 */
export const RESERVED_CLAIMS: readonly string[] = Object.freeze([
  "iss",
  "sub",
  "aud",
  "exp",
  "nbf",
  "iat",
  "jti",
  "client_id",
  "scope",
]);

/** Bounds of the extra claims: serialized size, top-level names, name length, nesting depth. */
export const MAX_CLAIMS_BYTES = 8 * 1024;
export const MAX_CLAIMS = 50;
export const MAX_CLAIM_NAME = 64;
export const MAX_CLAIMS_DEPTH = 5;
/** `iss` overrides are at most this long. */
export const MAX_ISSUER_LENGTH = 256;

const bad = (message: string) => new OAuthError("invalid_request", message);

function text(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" && (name === "ttl" || name === "nbf")) return String(value);
  throw bad(`Parameter "${name}" must be a string`);
}

function seconds(value: unknown, name: string): number | undefined {
  const raw = text(value, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d{1,12}$/.test(raw)) throw bad(`Parameter "${name}" must be a whole number of seconds`);
  return Number(raw);
}

function depth(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  let deepest = 0;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depth(item));
  return deepest + 1;
}

function parseClaims(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  let claims: unknown = value;
  if (typeof value === "string") {
    if (value.length > MAX_CLAIMS_BYTES) throw bad(`Parameter "claims" must be at most ${MAX_CLAIMS_BYTES} bytes`);
    try {
      claims = JSON.parse(value);
    } catch {
      throw bad('Parameter "claims" must be a JSON object');
    }
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw bad('Parameter "claims" must be a JSON object');
  }
  const record = claims as Record<string, unknown>;
  const names = Object.keys(record);
  if (names.length > MAX_CLAIMS) throw bad(`Parameter "claims" may name at most ${MAX_CLAIMS} claims`);
  if (new TextEncoder().encode(JSON.stringify(record)).byteLength > MAX_CLAIMS_BYTES) {
    throw bad(`Parameter "claims" must be at most ${MAX_CLAIMS_BYTES} bytes`);
  }
  if (depth(record) > MAX_CLAIMS_DEPTH) throw bad(`Parameter "claims" may nest at most ${MAX_CLAIMS_DEPTH} levels`);
  for (const name of names) {
    if (name === "" || name.length > MAX_CLAIM_NAME) {
      throw bad(`Claim names in "claims" are 1 to ${MAX_CLAIM_NAME} characters`);
    }
    if (RESERVED_CLAIMS.includes(name)) {
      throw bad(`Claim "${name}" cannot be set through "claims"; use its own parameter (see docs/oauth.md)`);
    }
  }
  return structuredClone(record);
}

function audiences(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const values = Array.isArray(value) ? value : [value];
  if (values.length > MAX_AUDIENCES) {
    throw new OAuthError("invalid_target", `Ask for at most ${MAX_AUDIENCES} audiences`);
  }
  return values.map((item) => {
    if (typeof item !== "string") throw bad('Parameter "aud" must be a string or a list of strings');
    return checkAudience(item);
  });
}

/** Options of {@linkcode parseMockControls}. */
export interface MockOptions {
  /** The longest `ttl` accepted, seconds. */
  readonly maxTtl: number;
  /** Unix seconds now: `nbf` must lie within `maxTtl` of it. */
  readonly now: number;
}

/**
 * The controls in `fields` (a JSON body, or a form as a record whose repeatable `aud` is a
 * list). Throws `invalid_request` (or `invalid_scope`, `invalid_target`) naming what is wrong.
 */
export function parseMockControls(fields: Readonly<Record<string, unknown>>, options: MockOptions): MockControls {
  const out: {
    audience?: readonly string[];
    scope?: readonly string[];
    ttl?: number;
    notBefore?: number;
    issuer?: string;
    claims?: Record<string, unknown>;
  } = {};
  const audience = audiences(fields.aud);
  if (audience !== undefined) out.audience = audience;
  const scope = parseScope(text(fields.scope, "scope"));
  if (scope !== undefined) out.scope = scope;
  const ttl = seconds(fields.ttl, "ttl");
  if (ttl !== undefined) {
    if (ttl < 1 || ttl > options.maxTtl) throw bad(`Parameter "ttl" must be 1 to ${options.maxTtl} seconds`);
    out.ttl = ttl;
  }
  const nbf = seconds(fields.nbf, "nbf");
  if (nbf !== undefined) {
    if (Math.abs(nbf - options.now) > options.maxTtl) {
      throw bad(`Parameter "nbf" must be unix seconds within ${options.maxTtl} seconds of now`);
    }
    out.notBefore = nbf;
  }
  const issuer = text(fields.iss, "iss");
  if (issuer !== undefined) {
    if (issuer.length > MAX_ISSUER_LENGTH || !/^[\x21-\x7e]+$/.test(issuer)) {
      throw bad(`Parameter "iss" is 1 to ${MAX_ISSUER_LENGTH} printable characters`);
    }
    out.issuer = issuer;
  }
  const claims = parseClaims(fields.claims);
  if (claims !== undefined) out.claims = claims;
  return out;
}
