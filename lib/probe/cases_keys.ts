/**
 * The forged-token cases about which key verifies: keys the JWKS does not hold (unknown,
 * expired, revoked, a rival issuer's), `kid` injection, keys the token brings itself (`jwk`,
 * `jku`, `x5u`, `x5c`), an unknown `crit` header, duplicate claims and a very large token.
 * @module
 */
import type { CaseContext, CaseSpec } from "./cases.ts";
import { FOREIGN } from "./cases.ts";
import { alterSignature, forge, utf8 } from "./jws.ts";
import type { ProbeSigner } from "./keys.ts";

const INJECTION_REF = "RFC 8725 §2.9, §3.10";
const FETCH_REF = "RFC 8725 §3.10";
/** The critical header parameter no verifier knows. */
const UNKNOWN_CRIT = "urn:jwks-server:probe:unknown";
/** Size of the padding claim of the very large token. */
const LARGE_BYTES = 32 * 1024;

function standardBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function signedByServerKey(key: ProbeSigner | null, what: string, ctx: CaseContext) {
  if (key === null) return { skip: `the database holds no ${what} key` };
  return ctx.sign(ctx.claims(), { key });
}

/** Signed with the attacker's key under its own header plus `extra` members. */
function attackerToken(ctx: CaseContext, extra: Readonly<Record<string, unknown>>): Promise<string> {
  const { attacker } = ctx.attacker;
  return ctx.sign(ctx.claims(), { key: attacker, header: { ...ctx.header(attacker), ...extra } });
}

/** HS256 under `kid` with `secret`: what a verifier that resolves `kid` unsafely would compute. */
function injectedKid(ctx: CaseContext, kid: string, secret: string): Promise<string> {
  return forge({ alg: "HS256", kid, typ: "JWT" }, ctx.claims(), { hmac: "HS256", secret: utf8(secret) });
}

/** The cases about which key verifies the token. */
export const KEY_CASES: readonly CaseSpec[] = [
  {
    id: "unknown-key-known-kid",
    description: "Signed by a key the server never had, under the kid of the key that signs now",
    ref: "RFC 7515 §5.2",
    build: (ctx) =>
      ctx.sign(ctx.claims(), {
        key: ctx.attacker.attacker,
        header: ctx.header(ctx.keys.active),
      }),
  },
  {
    id: "expired-key",
    description: "Signed by the server's newest expired key, which the JWKS no longer publishes",
    ref: "RFC 7517 §5; RFC 8725 §3.3",
    build: (ctx) => signedByServerKey(ctx.keys.expired, "expired", ctx),
  },
  {
    id: "revoked-key",
    description: "Signed by a key of the server that was revoked",
    ref: "RFC 7517 §5; RFC 8725 §3.3",
    build: (ctx) => signedByServerKey(ctx.keys.revoked, "revoked", ctx),
  },
  {
    id: "kid-unknown",
    description: "Signed by an unknown key under a kid no key set holds",
    ref: "RFC 7515 §4.1.4",
    build: (ctx) => attackerToken(ctx, { kid: `probe-unknown-${ctx.attacker.attacker.kid.slice(0, 8)}` }),
  },
  {
    id: "kid-path-traversal",
    description: 'kid "../../../../../../dev/null", HS256 with an empty secret (the contents of /dev/null)',
    ref: INJECTION_REF,
    build: (ctx) => injectedKid(ctx, "../../../../../../dev/null", ""),
  },
  {
    id: "kid-sql-injection",
    description: "kid \"x' UNION SELECT 'probe-secret' --\", HS256 with the secret the injected query returns",
    ref: INJECTION_REF,
    build: (ctx) => injectedKid(ctx, "x' UNION SELECT 'probe-secret' -- ", "probe-secret"),
  },
  {
    id: "kid-url",
    description: "kid is a URL on the attacker's site serving the attacker's key",
    ref: FETCH_REF,
    build: (ctx) => attackerToken(ctx, { kid: ctx.urls.kid }),
  },
  {
    id: "jwk-embedded",
    description: "The attacker's public key embedded in the jwk header, signed by the attacker",
    ref: "CVE-2018-0114; RFC 7515 §4.1.3",
    build: (ctx) => attackerToken(ctx, { jwk: ctx.attacker.attacker.publicJwk }),
  },
  {
    id: "jku-attacker-url",
    description: "jku points at a key set on the attacker's site, signed by the attacker",
    ref: `${FETCH_REF}; RFC 7515 §4.1.2`,
    build: (ctx) => attackerToken(ctx, { jku: ctx.urls.jku }),
  },
  {
    id: "x5u-attacker-url",
    description: "x5u points at a self-signed certificate on the attacker's site, signed by the attacker",
    ref: `${FETCH_REF}; RFC 7515 §4.1.5`,
    build: (ctx) => attackerToken(ctx, { x5u: ctx.urls.x5u }),
  },
  {
    id: "x5c-embedded",
    description: "A self-signed certificate of the attacker's key embedded in x5c, signed by the attacker",
    ref: "RFC 7515 §4.1.6; RFC 8725 §3.10",
    build: (ctx) => attackerToken(ctx, { x5c: [standardBase64(ctx.attacker.certificate)] }),
  },
  {
    id: "crit-unknown",
    description: "A critical header parameter (crit) no verifier understands, signed by the key that signs now",
    ref: "RFC 7515 §4.1.11",
    build: (ctx) =>
      ctx.sign(ctx.claims(), {
        header: { ...ctx.header(), crit: [UNKNOWN_CRIT], [UNKNOWN_CRIT]: true },
        crit: UNKNOWN_CRIT,
      }),
  },
  {
    id: "other-issuer",
    description: "A correct token of a rival issuer, whose discovery document and key set the attacker serves",
    ref: "RFC 8725 §2.7, §3.8",
    build: (ctx) => {
      const { rival } = ctx.attacker;
      return ctx.sign(ctx.claims({ iss: ctx.urls.rivalIssuer }), { key: rival });
    },
  },
  {
    id: "duplicate-claims",
    description: "The payload repeats iss: first the expected issuer, last another one",
    ref: "RFC 7519 §4",
    build: async (ctx) => {
      const { active } = ctx.keys;
      const claims = JSON.stringify(ctx.claims());
      const payload = `${claims.slice(0, -1)},"iss":${JSON.stringify(FOREIGN)}}`;
      return await forge(ctx.header(), payload, { key: active.key });
    },
  },
  {
    id: "oversized-token",
    description: `A ${LARGE_BYTES / 1024} KiB token with a bad signature: refused without a crash or a hang`,
    ref: "CWE-400; RFC 7515 §5.2",
    build: async (ctx) => alterSignature(await ctx.sign(ctx.claims({ pad: "A".repeat(LARGE_BYTES) }))),
  },
];
