/**
 * The shape of a forged-token case (stable kebab-case id, one-line description, RFC 8725 / CVE
 * reference, a builder) and what builders work with, plus the cases about claims: expiry,
 * not-before, issued-at, issuer, audience and token kind. The catalogue that runs them all is
 * `catalogue.ts`; the signature and key cases live beside this file.
 * @module
 */
import type { AttackerKeys, AttackerUrls, ForeignKey } from "./attacker.ts";
import type { ProbeKeys, ProbeSigner } from "./keys.ts";

/** What a case builder returns: a token, or why the case cannot run against this server. */
export type Built = string | { readonly token: string; readonly note: string } | { readonly skip: string };

/** One entry of the catalogue, before it is built. */
export interface CaseSpec {
  /** Stable kebab-case id: scripts and CI match on it. */
  readonly id: string;
  /** What the token forges, in one line. */
  readonly description: string;
  /** The RFC section or CVE the case comes from. */
  readonly ref: string;
  build(ctx: CaseContext): Promise<Built> | Built;
}

/** What a builder works with. */
export interface CaseContext {
  readonly keys: ProbeKeys;
  readonly attacker: AttackerKeys;
  readonly urls: AttackerUrls;
  readonly issuer: string;
  /** The audience the target expects, or null when it was not given. */
  readonly audience: string | null;
  /** Unix seconds. */
  readonly now: number;
  /** The control token. */
  readonly control: string;
  /** The claims of a correct token with `changes` applied; a change to `undefined` removes the claim. */
  claims(changes?: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** The header jose would write for `key` (the active key by default): `alg`, `kid`, `typ`. */
  header(key?: ProbeSigner | ForeignKey): Record<string, unknown>;
  /** Signs `claims` with jose under `header` (default {@linkcode CaseContext.header}) with `key`. */
  sign(
    claims: Readonly<Record<string, unknown>>,
    options?: { key?: ProbeSigner | ForeignKey; header?: Readonly<Record<string, unknown>>; crit?: string },
  ): Promise<string>;
}

/** A built case: send `token`, expect the target to refuse it. */
export interface ProbeCase {
  readonly id: string;
  readonly description: string;
  readonly ref: string;
  readonly token: string;
  readonly expect: "reject";
  /** How the case was adapted to this server, when it was. */
  readonly note?: string;
}

/** The token that must be accepted before any case means anything. */
export interface ControlCase {
  readonly id: "control";
  readonly description: string;
  readonly ref: string;
  readonly token: string;
  readonly expect: "accept";
}

/** A case that could not be built here, and why. */
export interface SkippedCase {
  readonly id: string;
  readonly description: string;
  readonly ref: string;
  readonly reason: string;
}

/** Every token of one probe run. */
export interface Catalogue {
  readonly control: ControlCase;
  readonly cases: readonly ProbeCase[];
  readonly skipped: readonly SkippedCase[];
}

/** Lifetime of the control token and of the tokens cases derive from it, in seconds. */
export const TOKEN_LIFETIME = 300;
/** How far in the past or future a time claim is moved: beyond any sane clock skew. */
export const BEYOND_SKEW = 3600;
/** An issuer and an audience that are certainly not the target's. */
export const FOREIGN = "https://attacker.example";

const noAudience = { skip: "no audience given (--audience): the target is assumed not to check aud" };

/** The cases about claims: time, issuer, audience, token kind. */
export const CLAIM_CASES: readonly CaseSpec[] = [
  {
    id: "exp-expired",
    description: "exp one hour in the past, beyond any clock skew",
    ref: "RFC 7519 §4.1.4",
    build: (ctx) => ctx.sign(ctx.claims({ iat: ctx.now - 2 * BEYOND_SKEW, exp: ctx.now - BEYOND_SKEW })),
  },
  {
    id: "exp-missing",
    description: "No exp claim: a token that never expires",
    ref: "RFC 7519 §4.1.4, RFC 9068 §2.2",
    build: (ctx) => ctx.sign(ctx.claims({ exp: undefined })),
  },
  {
    id: "nbf-future",
    description: "nbf one hour in the future: not valid yet",
    ref: "RFC 7519 §4.1.5",
    build: (ctx) => ctx.sign(ctx.claims({ nbf: ctx.now + BEYOND_SKEW, exp: ctx.now + 2 * BEYOND_SKEW })),
  },
  {
    id: "iat-future",
    description: "iat one hour in the future: issued later than now",
    ref: "RFC 7519 §4.1.6",
    build: (ctx) => ctx.sign(ctx.claims({ iat: ctx.now + BEYOND_SKEW, exp: ctx.now + 2 * BEYOND_SKEW })),
  },
  {
    id: "iss-wrong",
    description: "iss names another issuer",
    ref: "RFC 8725 §3.8",
    build: (ctx) => ctx.sign(ctx.claims({ iss: FOREIGN })),
  },
  {
    id: "iss-prefix",
    description: "iss is the expected issuer followed by another domain (caught only by an exact comparison)",
    ref: "RFC 8725 §3.8",
    build: (ctx) => ctx.sign(ctx.claims({ iss: `${ctx.issuer}.attacker.example` })),
  },
  {
    id: "iss-missing",
    description: "No iss claim",
    ref: "RFC 8725 §3.8",
    build: (ctx) => ctx.sign(ctx.claims({ iss: undefined })),
  },
  {
    id: "aud-wrong",
    description: "aud names another audience",
    ref: "RFC 8725 §3.9",
    build: (ctx) => ctx.audience === null ? noAudience : ctx.sign(ctx.claims({ aud: `${FOREIGN}/api` })),
  },
  {
    id: "aud-missing",
    description: "No aud claim",
    ref: "RFC 8725 §3.9",
    build: (ctx) => ctx.audience === null ? noAudience : ctx.sign(ctx.claims({ aud: undefined })),
  },
  {
    id: "typ-id-token",
    description: "An OpenID Connect ID token (aud = a client id, nonce, azp, auth_time) sent as an access token",
    ref: "RFC 8725 §2.8, §3.12",
    build: (ctx) => {
      if (ctx.audience === null) return noAudience;
      const client = ctx.audience === "probe-client" ? "probe-web-client" : "probe-client";
      return ctx.sign(ctx.claims({ aud: client, azp: client, nonce: "probe-nonce", auth_time: ctx.now - 10 }));
    },
  },
];

/** The control's catalogue entry. */
export const CONTROL = Object.freeze({
  id: "control",
  description: "A correct token signed by the key that signs now: the target must accept it",
  ref: "RFC 7519 §7.2",
});
