/**
 * The forged-token cases about the algorithm and the signature: `alg: none` in several
 * spellings, HMAC keyed with the server's public key (RS256 → HS256 confusion), tampered and
 * missing signatures, ECDSA "psychic signatures" (r = s = 0) and the RS256 ↔ PS256 switch.
 * Built by hand with `jws.ts` where jose refuses to make such tokens.
 * @module
 */
import type { JWK } from "jose";
import type { CaseContext, CaseSpec } from "./cases.ts";
import { alterSignature, b64url, forge, fromB64url, publicKeyDer, publicKeyPem, utf8, withSignature } from "./jws.ts";

const NONE_REF = "RFC 8725 §2.1, §3.1; CVE-2015-2951";
const CONFUSION_REF = "RFC 8725 §2.1, §3.1; CVE-2016-10555, CVE-2015-9235";
const PSYCHIC_REF = "CVE-2022-21449; RFC 8725 §3.4";

/** The order n of the P-256 group, big-endian. */
const P256_ORDER = Uint8Array.from(
  "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551".match(/../g)!,
  (hex) => parseInt(hex, 16),
);

function unsigned(spelling: string, ctx: CaseContext): Promise<string> {
  return forge({ alg: spelling, kid: ctx.keys.active.kid, typ: "JWT" }, ctx.claims(), null);
}

function noneCase(id: string, spelling: string, what: string): CaseSpec {
  return {
    id,
    description: `alg "${spelling}" ${what}, no signature`,
    ref: NONE_REF,
    build: (ctx) => unsigned(spelling, ctx),
  };
}

type Hs = "HS256" | "HS384" | "HS512";

/** The bytes a confused verifier might take as the HMAC secret, by encoding. */
const SECRETS: Readonly<Record<string, (jwk: JWK) => Uint8Array<ArrayBuffer>>> = {
  pem: (jwk) => utf8(publicKeyPem(jwk)),
  "pem-bare": (jwk) => utf8(publicKeyPem(jwk).trimEnd()),
  der: (jwk) => publicKeyDer(jwk),
  "jwk-n": (jwk) => fromB64url(jwk.n ?? jwk.x ?? ""),
  "jwk-json": (jwk) => utf8(JSON.stringify(jwk)),
};

function confusionCase(alg: Hs, encoding: keyof typeof SECRETS & string, what: string): CaseSpec {
  return {
    id: `${alg.toLowerCase()}-public-key-${encoding}`,
    description: `${alg} with the server's public key as the HMAC secret (${what})`,
    ref: CONFUSION_REF,
    build: (ctx) => {
      const { active } = ctx.keys;
      const secret = SECRETS[encoding]!(active.publicJwk);
      return forge({ alg, kid: active.kid, typ: "JWT" }, ctx.claims(), { hmac: alg, secret });
    },
  };
}

/** A token with a fresh correct signature, to tamper with. */
function fresh(ctx: CaseContext): Promise<string> {
  return ctx.sign(ctx.claims());
}

/** The kid a psychic signature targets: a published P-256 key, preferably the one that signs now. */
function p256Target(ctx: CaseContext): { kid: string; note?: string } {
  const { active, published } = ctx.keys;
  if (active.alg === "ES256") return { kid: active.kid };
  const es256 = published.find((key) => key.alg === "ES256");
  if (es256 !== undefined) return { kid: es256.kid };
  return {
    kid: active.kid,
    note: `no ES256 key is published: aimed at kid "${active.kid}" (${active.alg}), which only a verifier ` +
      "that takes the algorithm from the token would try",
  };
}

function psychicCase(id: string, value: Uint8Array, what: string): CaseSpec {
  return {
    id,
    description: `ES256 "psychic signature" with r = s = ${what}, for a P-256 kid`,
    ref: PSYCHIC_REF,
    build: async (ctx) => {
      const target = p256Target(ctx);
      const bytes = new Uint8Array(64);
      bytes.set(value, 0);
      bytes.set(value, 32);
      const token = await forge({ alg: "ES256", kid: target.kid, typ: "JWT" }, ctx.claims(), { bytes });
      return target.note === undefined ? token : { token, note: target.note };
    },
  };
}

/** The cases about the algorithm and the signature. */
export const SIGNATURE_CASES: readonly CaseSpec[] = [
  ...([
    ["alg-none", "none", "(unsecured JWS)"],
    ["alg-none-capitalised", "None", "(capitalised)"],
    ["alg-none-upper", "NONE", "(upper case)"],
    ["alg-none-mixed", "nOnE", "(mixed case)"],
  ] as const).map(([id, alg, label]) => noneCase(id, alg, label)),
  {
    id: "alg-none-with-signature",
    description: 'alg "none" keeping a real signature from the server\'s key',
    ref: NONE_REF,
    build: async (ctx) => {
      const real = await fresh(ctx);
      const token = await unsigned("none", ctx);
      return withSignature(token, real.slice(real.lastIndexOf(".") + 1));
    },
  },
  {
    id: "alg-missing",
    description: "No alg header at all, signed by the key that signs now",
    ref: "RFC 7515 §4.1.1",
    build: async (ctx) => {
      const { active } = ctx.keys;
      return await forge({ kid: active.kid, typ: "JWT" }, ctx.claims(), { key: active.key });
    },
  },
  ...([
    ["HS256", "pem", "PEM, as OpenSSL writes it"],
    ["HS384", "pem", "PEM, as OpenSSL writes it"],
    ["HS512", "pem", "PEM, as OpenSSL writes it"],
    ["HS256", "pem-bare", "PEM without the final newline"],
    ["HS256", "der", "SubjectPublicKeyInfo DER bytes"],
    ["HS256", "jwk-n", "the decoded n member of the JWK, x for EC and OKP keys"],
    ["HS256", "jwk-json", "the JWK as published, JSON text"],
  ] as const).map(([alg, form, label]) => confusionCase(alg, form, label)),
  {
    id: "signature-altered",
    description: "A correct token with one bit of its signature flipped",
    ref: "RFC 7515 §5.2",
    build: async (ctx) => alterSignature(await fresh(ctx)),
  },
  {
    id: "signature-removed",
    description: "A correct token with its signature segment emptied (header.payload.)",
    ref: "RFC 7515 §5.2; CVE-2020-28042",
    build: async (ctx) => withSignature(await fresh(ctx), ""),
  },
  {
    id: "signature-segment-missing",
    description: "A correct token cut to two segments (header.payload)",
    ref: "RFC 7515 §7.1",
    build: async (ctx) => {
      const token = await fresh(ctx);
      return token.slice(0, token.lastIndexOf("."));
    },
  },
  {
    id: "claims-altered",
    description: 'A correct signature over other claims: the payload swapped for one with sub "admin"',
    ref: "RFC 7515 §5.2",
    build: async (ctx) => {
      const [header, , signature] = (await fresh(ctx)).split(".");
      return `${header}.${b64url(JSON.stringify(ctx.claims({ sub: "admin" })))}.${signature}`;
    },
  },
  psychicCase("es256-zero-signature", new Uint8Array(32), "0"),
  psychicCase("es256-order-signature", P256_ORDER, "n (the group order, so 0 modulo n)"),
  {
    id: "rs256-ps256-switch",
    description: "The RSA key that signs now, used with the other RSA algorithm (RS256 ↔ PS256)",
    ref: "RFC 8725 §3.1",
    build: async (ctx) => {
      const { active } = ctx.keys;
      if (active.alg !== "RS256" && active.alg !== "PS256") {
        return { skip: `needs an RSA key; the key that signs now is ${active.alg}` };
      }
      if (active.switched === undefined) {
        return { skip: "needs the private key to sign under another algorithm; the live key view holds none" };
      }
      const other = active.alg === "RS256" ? "PS256" : "RS256";
      return await forge({ alg: other, kid: active.kid, typ: "JWT" }, ctx.claims(), { key: active.switched });
    },
  },
];
