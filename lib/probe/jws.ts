/**
 * The byte-level JWS helpers the forged-token cases need where jose (rightly) refuses: compact
 * tokens assembled from raw header and payload text, signatures made with WebCrypto for any
 * header, HMAC with arbitrary secrets, and the public-key encodings (PEM, DER) a confused
 * verifier might use as an HMAC secret. Knows nothing of which case uses what.
 * @module
 */
import { createPublicKey } from "node:crypto";
import type { JWK } from "jose";
import type { Signer } from "../core/signer.ts";

const encoder = new TextEncoder();

/** Base64url without padding, of bytes or of UTF-8 text. */
export function b64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The bytes of a base64url text (padding optional). */
export function fromB64url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** A header or payload: an object (serialized with `JSON.stringify`) or raw JSON text, sent as is. */
export type JsonPart = Readonly<Record<string, unknown>> | string;

function encodePart(part: JsonPart): string {
  return b64url(typeof part === "string" ? part : JSON.stringify(part));
}

/**
 * Signs `input` with `key`: a server key through its `Signer` (whichever backend holds it), a
 * WebCrypto key with the parameters its algorithm needs for JWS.
 */
export async function signBytes(
  key: CryptoKey | Signer,
  input: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!(key instanceof CryptoKey)) return new Uint8Array(await key.sign(input));
  const name = key.algorithm.name;
  const params: AlgorithmIdentifier | RsaPssParams | EcdsaParams = name === "RSA-PSS"
    ? { name, saltLength: 32 }
    : name === "ECDSA"
    ? { name, hash: "SHA-256" }
    : { name };
  return new Uint8Array(await crypto.subtle.sign(params, key, input));
}

/** How a forged token is signed: with a key, with fixed signature bytes, or not at all. */
export type Signature =
  | { readonly key: CryptoKey | Signer }
  | { readonly hmac: "HS256" | "HS384" | "HS512"; readonly secret: Uint8Array<ArrayBuffer> }
  | { readonly bytes: Uint8Array }
  | null;

/**
 * Assembles a compact JWS from `header` and `payload` exactly as given (raw text keeps repeated
 * members, odd spellings and anything else a JSON serializer would normalise). `null` leaves the
 * signature segment empty.
 */
export async function forge(header: JsonPart, payload: JsonPart, signature: Signature): Promise<string> {
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  if (signature === null) return `${input}.`;
  if ("bytes" in signature) return `${input}.${b64url(signature.bytes)}`;
  const bytes = encoder.encode(input);
  if ("key" in signature) return `${input}.${b64url(await signBytes(signature.key, bytes))}`;
  return `${input}.${b64url(await hmac(signature.hmac, signature.secret, bytes))}`;
}

/** HMAC-SHA-256/384/512 of `input` under `secret` (any length, even empty). */
export async function hmac(
  alg: "HS256" | "HS384" | "HS512",
  secret: Uint8Array<ArrayBuffer>,
  input: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const hash = `SHA-${alg.slice(2)}`;
  // WebCrypto refuses a zero-length HMAC key; the HMAC of an empty key is that of one zero block.
  const keyBytes = secret.byteLength === 0 ? new Uint8Array(1) : secret;
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, input));
}

/** Replaces the signature segment of a compact token. */
export function withSignature(token: string, signature: string): string {
  return `${token.slice(0, token.lastIndexOf("."))}.${signature}`;
}

/**
 * Flips one bit in the middle of the signature segment, keeping its length and its last
 * character (whose low bits may be unused padding), so the change always alters the bytes.
 */
export function alterSignature(token: string): string {
  const signature = token.slice(token.lastIndexOf(".") + 1);
  const bytes = fromB64url(signature);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  return withSignature(token, b64url(bytes));
}

/** The segments of a compact token, decoded: header and payload objects. */
export function decodeParts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = "", payload = ""] = token.split(".");
  const decoder = new TextDecoder();
  return {
    header: JSON.parse(decoder.decode(fromB64url(header))),
    payload: JSON.parse(decoder.decode(fromB64url(payload))),
  };
}

/** The SubjectPublicKeyInfo DER of a public JWK. */
export function publicKeyDer(jwk: JWK): Uint8Array<ArrayBuffer> {
  const key: Record<string, string> = {};
  for (const member of ["kty", "crv", "n", "e", "x", "y"] as const) {
    const value = jwk[member];
    if (typeof value === "string") key[member] = value;
  }
  const der = createPublicKey({ key, format: "jwk" }).export({
    type: "spki",
    format: "der",
  });
  return new Uint8Array(der);
}

/** The PEM text of a public JWK (`-----BEGIN PUBLIC KEY-----`), ending with a newline as OpenSSL writes it. */
export function publicKeyPem(jwk: JWK): string {
  const body = btoa(String.fromCharCode(...publicKeyDer(jwk))).replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN PUBLIC KEY-----\n${body}-----END PUBLIC KEY-----\n`;
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}
