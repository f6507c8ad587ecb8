/**
 * Key material: the signing algorithms, generation per algorithm, RFC 7638 thumbprint kids, the
 * public JWKS projection (an allow-list of public members), and the import of private JWKs as
 * non-extractable signing keys, each checked and self-tested first (`key_checks.ts`). Knows
 * nothing of schedules or storage.
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { calculateJwkThumbprint, importJWK, type JWK } from "jose";
import { AppError } from "./errors.ts";
import { privateJwkBytes } from "./jwk_bytes.ts";
import { checkPrivateJwk, selfTest, SUBTLE_SIGN } from "./key_checks.ts";
import { privateKeyParts } from "./private_key.ts";

/** Signing algorithms jwks-server can issue with. */
export type Alg = "RS256" | "PS256" | "ES256" | "EdDSA";
/** Every supported {@linkcode Alg}, default first. */
export const ALGS: readonly Alg[] = Object.freeze(["RS256", "PS256", "ES256", "EdDSA"]);

/** True when `value` names a supported signing algorithm. */
export function isAlg(value: unknown): value is Alg {
  return typeof value === "string" && (ALGS as readonly string[]).includes(value);
}

/** The public members a JWKS entry may carry, by key type. Anything else is dropped. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  RSA: Object.freeze(["n", "e"]),
  EC: Object.freeze(["crv", "x", "y"]),
  OKP: Object.freeze(["crv", "x"]),
});

/** A public JWK as published in the JWKS. */
export interface PublicJwk {
  readonly kty: string;
  readonly kid: string;
  readonly use: "sig";
  readonly alg: Alg;
  readonly [member: string]: string;
}

/**
 * Projects any JWK (public or private) onto its public members, built from an allow-list so a
 * private member can never leak. Throws `invalid_key` for an unsupported key type.
 */
export function publicJwk(jwk: JWK, kid: string, alg: Alg): PublicJwk {
  const kty = jwk.kty ?? "";
  const members = PUBLIC_MEMBERS[kty];
  if (members === undefined) throw new AppError("invalid_key", `Unsupported key type "${kty}"`);
  const out: Record<string, string> = { kty, kid, use: "sig", alg };
  for (const member of members) {
    const value = (jwk as Record<string, unknown>)[member];
    if (typeof value !== "string") {
      throw new AppError("invalid_key", `Key of type "${kty}" lacks its "${member}" member`);
    }
    out[member] = value;
  }
  return Object.freeze(out) as PublicJwk;
}

/** A freshly generated or imported key, before it is stored. */
export interface KeyMaterial {
  readonly alg: Alg;
  readonly kid: string;
  readonly publicJwk: PublicJwk;
  /** The private JWK as UTF-8 JSON: the plaintext that gets sealed. */
  readonly privateBytes: Uint8Array;
}

/** The algorithm a key of this type and curve is used with, checked against `alg` if given. */
function algFor(jwk: JWK, alg: Alg): Alg {
  const fits = (jwk.kty === "RSA" && (alg === "RS256" || alg === "PS256")) ||
    (jwk.kty === "EC" && jwk.crv === "P-256" && alg === "ES256") ||
    (jwk.kty === "OKP" && jwk.crv === "Ed25519" && alg === "EdDSA");
  if (!fits) {
    throw new AppError("invalid_key", `A key of type "${jwk.kty}"${jwk.crv ? ` (${jwk.crv})` : ""} cannot sign ${alg}`);
  }
  return alg;
}

/** The algorithm a private JWK implies when the user does not choose one. */
export function defaultAlgFor(jwk: JWK): Alg {
  if (isAlg(jwk.alg)) return jwk.alg;
  if (jwk.kty === "RSA") return "RS256";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  throw new AppError("invalid_key", `Unsupported key type "${jwk.kty}"${jwk.crv ? ` (${jwk.crv})` : ""}`);
}

/**
 * Turns a private JWK into {@linkcode KeyMaterial}: checks it is a well-formed private key that
 * fits `alg` (`checkPrivateJwk`), proves with a sign-then-verify self-test that its private and
 * public halves belong together, computes the thumbprint kid, and keeps only the members a
 * signer needs. Every failure is `invalid_key`.
 */
export async function materialFromJwk(jwk: JWK, alg: Alg = defaultAlgFor(jwk)): Promise<KeyMaterial> {
  algFor(jwk, alg);
  checkPrivateJwk(jwk);
  const kid = await calculateJwkThumbprint(jwk, "sha256");
  const pub = publicJwk(jwk, kid, alg);
  // Prove the key imports and signs, and that the published half verifies it, before it is stored.
  const key = await importSigningKey(jwk, alg);
  await selfTest((data) => signWith(key, alg, data), pub, alg);
  const privateJwk: Record<string, unknown> = { ...pub };
  for (const member of ["d", "p", "q", "dp", "dq", "qi"]) {
    const value = (jwk as Record<string, unknown>)[member];
    if (typeof value === "string") privateJwk[member] = value;
  }
  return Object.freeze({
    alg,
    kid,
    publicJwk: pub,
    privateBytes: new TextEncoder().encode(JSON.stringify(privateJwk)),
  });
}

async function signWith(key: CryptoKey, alg: Alg, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(SUBTLE_SIGN[alg]!, key, data as Uint8Array<ArrayBuffer>));
}

/** WebCrypto's key generation parameters of each algorithm: RSA 2048 bits, exponent 65537. */
export const KEY_GENERATION: Readonly<Record<Alg, RsaHashedKeyGenParams | EcKeyGenParams | Algorithm>> = Object.freeze({
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
  PS256: { name: "RSA-PSS", hash: "SHA-256", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  EdDSA: { name: "Ed25519" },
});

/**
 * Generates a new key pair for `alg` (RSA keys are 2048 bits). The private key leaves WebCrypto
 * as PKCS#8 DER and is written into the sealed JWK bytes from there (`jwk_bytes.ts`): no
 * private member becomes a string. Self-tested, and the bytes are read back to the same DER.
 */
export async function generateKeyMaterial(alg: Alg): Promise<KeyMaterial> {
  const pair = await crypto.subtle.generateKey(KEY_GENERATION[alg], true, ["sign", "verify"]) as CryptoKeyPair;
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  let privateBytes: Uint8Array | null = null;
  try {
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey) as JWK;
    const kid = await calculateJwkThumbprint(jwk, "sha256");
    const pub = publicJwk(jwk, kid, alg);
    await selfTest((data) => signWith(pair.privateKey, alg, data), pub, alg);
    privateBytes = privateJwkBytes(der, pub);
    const readBack = privateKeyParts(privateBytes).pkcs8;
    const same = readBack.byteLength === der.byteLength && timingSafeEqual(readBack, der);
    readBack.fill(0);
    if (!same) throw new AppError("internal", "A generated key did not read back to the same PKCS#8 key");
    const material = Object.freeze({ alg, kid, publicJwk: pub, privateBytes });
    privateBytes = null;
    return material;
  } finally {
    der.fill(0);
    privateBytes?.fill(0);
  }
}

/** Imports a private JWK as a non-extractable signing key; `invalid_key` when it does not import. */
export async function importSigningKey(jwk: JWK, alg: Alg): Promise<CryptoKey> {
  const { use: _use, key_ops: _ops, ext: _ext, ...clean } = jwk;
  let key;
  try {
    key = await importJWK({ ...clean, alg }, alg, { extractable: false });
  } catch (error) {
    const why = error instanceof Error ? error.message.slice(0, 120) : "unknown error";
    throw new AppError("invalid_key", `The key does not import for ${alg}: ${why}`);
  }
  if (!(key instanceof CryptoKey) || key.type !== "private") {
    throw new AppError("invalid_key", "The key has no private part");
  }
  return key;
}
