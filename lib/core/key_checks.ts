/**
 * What makes a private JWK fit to be a signing key, checked before anything is stored or
 * imported: only the members its key type allows (no `oth`, no `x5c`), base64url values of the
 * right sizes, RSA moduli of 2048 to 4096 bits with a NIST public exponent and `p·q = n`, EC
 * points on P-256, and a sign-then-verify self-test of the pair (a private half from one key and
 * a public half from another fails it). Every failure is `invalid_key` with one line saying what
 * is wrong, never the key material. Pure.
 * @module
 */
import type { JWK } from "jose";
import { AppError } from "./errors.ts";

/** Smallest and largest RSA modulus accepted, in bits. */
export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 4096;

/** Members every key may carry besides its own: metadata we read or ignore. */
const METADATA = ["kty", "kid", "alg", "use", "key_ops", "ext"];
/** The members of each private key type (RFC 7518 §6, RFC 8037 §2), without `oth` (multi-prime RSA). */
const MEMBERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  RSA: ["n", "e", "d", "p", "q", "dp", "dq", "qi"],
  EC: ["crv", "x", "y", "d"],
  OKP: ["crv", "x", "d"],
});
const BASE64URL = /^[A-Za-z0-9_-]*$/;

const invalid = (message: string) => new AppError("invalid_key", message);

/** The bytes of the base64url member `name`; `invalid_key` when it is missing or not base64url. */
function bytesOf(jwk: Record<string, unknown>, name: string): Uint8Array {
  const value = jwk[name];
  if (typeof value !== "string" || value === "") throw invalid(`The key lacks its "${name}" member`);
  if (value.length > 2048 || !BASE64URL.test(value) || value.length % 4 === 1) {
    throw invalid(`The key's "${name}" member is not base64url`);
  }
  return Uint8Array.fromBase64(value, { alphabet: "base64url", lastChunkHandling: "loose" });
}

function toBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** P-256 (SEC 2 §2.4.2): field prime, curve coefficient b (a = -3), group order. */
const P256 = {
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};

function checkRsa(jwk: Record<string, unknown>): void {
  const n = toBigInt(bytesOf(jwk, "n"));
  const bits = bitLength(n);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw invalid(`RSA keys must have ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits, this one has ${bits}`);
  }
  const e = toBigInt(bytesOf(jwk, "e"));
  // NIST SP 800-56B: an odd exponent above 2^16 and below 2^256 (65537 in practice).
  if (e % 2n === 0n || e <= 1n << 16n || e >= 1n << 256n) {
    throw invalid("The RSA public exponent must be odd, above 65536 and below 2^256 (use 65537)");
  }
  for (const member of ["d", "p", "q", "dp", "dq", "qi"]) bytesOf(jwk, member);
  const p = toBigInt(bytesOf(jwk, "p"));
  const q = toBigInt(bytesOf(jwk, "q"));
  if (p * q !== n) throw invalid('The RSA private key does not belong to its public key (p·q is not "n")');
  const d = toBigInt(bytesOf(jwk, "d"));
  if (d <= 1n || d >= n) throw invalid('The RSA private exponent "d" is out of range');
}

function checkEc(jwk: Record<string, unknown>): void {
  if (jwk.crv !== "P-256") throw invalid(`Unsupported curve ${JSON.stringify(jwk.crv)}; expected "P-256"`);
  const sizes = ["x", "y", "d"].map((member) => bytesOf(jwk, member).byteLength);
  if (sizes.some((size) => size !== 32)) throw invalid("P-256 key members x, y and d must be 32 bytes each");
  const [x, y, d] = ["x", "y", "d"].map((member) => toBigInt(bytesOf(jwk, member))) as [bigint, bigint, bigint];
  const { p, b, n } = P256;
  const mod = (value: bigint) => ((value % p) + p) % p;
  if (x >= p || y >= p || mod(y * y) !== mod(x * x * x - 3n * x + b)) {
    throw invalid("The EC public point is not on the P-256 curve");
  }
  if (d === 0n || d >= n) throw invalid('The EC private scalar "d" is out of range');
}

function checkOkp(jwk: Record<string, unknown>): void {
  if (jwk.crv !== "Ed25519") throw invalid(`Unsupported curve ${JSON.stringify(jwk.crv)}; expected "Ed25519"`);
  if (bytesOf(jwk, "x").byteLength !== 32 || bytesOf(jwk, "d").byteLength !== 32) {
    throw invalid("Ed25519 key members x and d must be 32 bytes each");
  }
}

/**
 * Throws `invalid_key` unless `jwk` is a well-formed private key of a type we sign with: only
 * allowed members, each of the right form and size, the sizes, exponent and curve rules above.
 * The pairing of the private and public halves is proved by {@linkcode selfTest}.
 */
export function checkPrivateJwk(jwk: JWK): void {
  const record = jwk as Record<string, unknown>;
  const kty = typeof jwk.kty === "string" ? jwk.kty : "";
  const own = MEMBERS[kty];
  if (own === undefined) throw invalid(`Unsupported key type ${JSON.stringify(kty.slice(0, 16))}`);
  if (typeof record.d !== "string") throw invalid("The key has no private part");
  const unknown = Object.keys(record).filter((name) => !own.includes(name) && !METADATA.includes(name));
  if (unknown.length > 0) {
    const names = unknown.slice(0, 4).map((name) => JSON.stringify(name.slice(0, 32))).join(", ");
    throw invalid(`A ${kty} key may not carry ${names}${unknown.length > 4 ? " (and more)" : ""}`);
  }
  if (record.use !== undefined && record.use !== "sig") throw invalid('The key\'s "use" must be "sig"');
  if (record.key_ops !== undefined && !(Array.isArray(record.key_ops) && record.key_ops.includes("sign"))) {
    throw invalid('The key\'s "key_ops" must include "sign"');
  }
  if (kty === "RSA") checkRsa(record);
  else if (kty === "EC") checkEc(record);
  else checkOkp(record);
}

/** The WebCrypto signing parameters of each JWS algorithm (RFC 7518 §3, RFC 8037). */
export const SUBTLE_SIGN: Readonly<Record<string, AlgorithmIdentifier | RsaPssParams | EcdsaParams>> = Object.freeze({
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  PS256: { name: "RSA-PSS", saltLength: 32 },
  ES256: { name: "ECDSA", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
});

/** The WebCrypto import and verify parameters of each JWS algorithm we sign with. */
export const SUBTLE_PARAMS: Readonly<
  Record<
    string,
    {
      import: AlgorithmIdentifier | EcKeyImportParams | RsaHashedImportParams;
      verify: AlgorithmIdentifier | EcdsaParams | RsaPssParams;
    }
  >
> = Object.freeze({
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" } },
  PS256: { import: { name: "RSA-PSS", hash: "SHA-256" }, verify: { name: "RSA-PSS", saltLength: 32 } },
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
  EdDSA: { import: { name: "Ed25519" }, verify: { name: "Ed25519" } },
});

/** The message every self-test signs. */
const PROBE = new TextEncoder().encode("jwks-server self-test: sign with the private key, verify with the public one");

/**
 * Signs a fixed message with `sign` and verifies the signature with `publicJwk` (WebCrypto):
 * proves the private key behind `sign` is the one the public key will be published for, and
 * that it can sign at all. Throws `invalid_key` when either fails.
 */
export async function selfTest(
  sign: (data: Uint8Array) => Promise<Uint8Array>,
  publicJwk: Readonly<Record<string, unknown>>,
  alg: string,
): Promise<void> {
  const params = SUBTLE_PARAMS[alg];
  if (params === undefined) throw invalid(`Unsupported algorithm ${JSON.stringify(alg)}`);
  let signature: Uint8Array;
  try {
    signature = await sign(PROBE);
  } catch (error) {
    throw invalid(`The key cannot sign: ${error instanceof Error ? error.message.slice(0, 120) : "unknown error"}`);
  }
  let verified = false;
  try {
    const { kid: _kid, use: _use, alg: _alg, ...members } = publicJwk;
    const key = await crypto.subtle.importKey("jwk", members as JsonWebKey, params.import, false, ["verify"]);
    verified = await crypto.subtle.verify(params.verify, key, signature as Uint8Array<ArrayBuffer>, PROBE);
  } catch {
    verified = false;
  }
  if (!verified) throw invalid("The private key does not match its public key: a test signature did not verify");
}
