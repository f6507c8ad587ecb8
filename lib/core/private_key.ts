/**
 * Reads a sealed private JWK (its UTF-8 JSON plaintext) straight into PKCS#8 DER, so that no
 * private member (`d`, `p`, `q`, `dp`, `dq`, `qi`) ever becomes a JS string: a byte-level scan of
 * the JSON object, base64url decoded from byte ranges, DER written into one buffer the caller
 * owns and zeroes. Public members come back as a JWK. Does not import, sign or check the key.
 * @module
 */
import type { JWK } from "jose";
import { AppError } from "./errors.ts";

/** What a sealed private JWK holds, read without turning a private member into a string. */
export interface PrivateKeyParts {
  /** The public members only (kty, crv, n, e, x, y as present), as strings: they are public. */
  readonly publicJwk: JWK;
  /** PKCS#8 DER of the private key, in a buffer the caller owns and must zero (`.fill(0)`). */
  readonly pkcs8: Uint8Array<ArrayBuffer>;
}

const MAX_PLAINTEXT = 16 * 1024; // a 4096-bit RSA JWK is about 3.2 KiB
const MAX_MEMBER = 1024; // decoded bytes; a 4096-bit modulus is 512
const MAX_DEPTH = 32; // nesting of the arrays and objects skipped
const PRIVATE = new Set(["d", "p", "q", "dp", "dq", "qi"]);
const RSA_MEMBERS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a, MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, ZERO = 0x30;
const ESCAPES = new Set([...'"\\/bfnrt'].map((c) => c.charCodeAt(0)));
const HEX = new Set([..."0123456789abcdefABCDEF"].map((c) => c.charCodeAt(0)));
const LITERALS = ["true", "false", "null"].map((word) => new TextEncoder().encode(word));
export const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"; // RFC 4648 §5
const BASE64URL = new Int8Array(256).fill(-1);
for (const [index, char] of [...BASE64URL_ALPHABET].entries()) {
  BASE64URL[char.charCodeAt(0)] = index;
}
const utf8 = new TextDecoder("utf-8", { fatal: true });

function fail(message: string): never {
  throw new AppError("invalid_key", message);
}

function notJson(at: number): never {
  fail(`The key is not valid JSON (at byte ${at})`);
}

function skipSpace(bytes: Uint8Array, at: number): number {
  for (let byte = bytes[at]; byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d; byte = bytes[at]) at++;
  return at;
}

function expect(bytes: Uint8Array, at: number, byte: number): number {
  if (bytes[at] !== byte) notJson(at);
  return at + 1;
}

/** The end of the JSON string starting at `at` (its opening quote), escapes checked, not decoded. */
function skipString(bytes: Uint8Array, at: number): number {
  at = expect(bytes, at, QUOTE);
  for (;;) {
    const byte = bytes[at];
    if (byte === undefined || byte < 0x20) notJson(at);
    if (byte === QUOTE) return at + 1;
    if (byte !== BACKSLASH) at++;
    else if (ESCAPES.has(bytes[at + 1] ?? -1)) at += 2;
    else if (bytes[at + 1] === 0x75 && [2, 3, 4, 5].every((i) => HEX.has(bytes[at + i] ?? -1))) at += 6;
    else notJson(at);
  }
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= ZERO && byte <= 0x39;
}

function skipDigits(bytes: Uint8Array, at: number): number {
  const start = at;
  while (isDigit(bytes[at])) at++;
  if (at === start) notJson(at);
  return at;
}

function skipNumber(bytes: Uint8Array, at: number): number {
  if (bytes[at] === MINUS) at++;
  at = bytes[at] === ZERO ? at + 1 : skipDigits(bytes, at);
  if (bytes[at] === DOT) at = skipDigits(bytes, at + 1);
  if (((bytes[at] ?? 0) | 0x20) !== 0x65) return at; // no exponent: e or E
  return skipDigits(bytes, at + (bytes[at + 1] === PLUS || bytes[at + 1] === MINUS ? 2 : 1));
}

/** The end of the JSON value starting at `at`, whatever its type, checked but not decoded. */
function skipValue(bytes: Uint8Array, at: number, depth: number): number {
  const byte = bytes[at];
  if (byte === QUOTE) return skipString(bytes, at);
  if (byte === 0x5b) return skipItems(bytes, at, depth + 1, 0x5d, (item) => skipValue(bytes, item, depth + 1));
  if (byte === 0x7b) return skipObject(bytes, at, depth + 1, (_, value) => skipValue(bytes, value, depth + 1));
  const literal = LITERALS.find((word) => word.every((b, i) => bytes[at + i] === b));
  if (literal !== undefined) return at + literal.length;
  if (byte === MINUS || isDigit(byte)) return skipNumber(bytes, at);
  notJson(at);
}

/** The end of the array or object opened at `at`, whose items `item` skips (given each start). */
function skipItems(bytes: Uint8Array, at: number, depth: number, close: number, item: (at: number) => number): number {
  if (depth > MAX_DEPTH) fail("The key nests too deeply");
  at = skipSpace(bytes, at + 1);
  if (bytes[at] === close) return at + 1;
  for (;;) {
    at = skipSpace(bytes, item(at));
    if (bytes[at] === close) return at + 1;
    at = skipSpace(bytes, expect(bytes, at, COMMA));
  }
}

/** The end of the object opened at `at`; `value` gets each key's bytes (quoted) and its value's start. */
function skipObject(bytes: Uint8Array, at: number, depth: number, value: (key: Uint8Array, at: number) => number) {
  return skipItems(bytes, at, depth, 0x7d, (item) => {
    const end = skipString(bytes, item);
    return value(bytes.subarray(item, end), skipSpace(bytes, expect(bytes, skipSpace(bytes, end), COLON)));
  });
}

/** The JSON string `quoted` (public text only: a key, `kty` or `crv`) decoded. */
function decodeString(quoted: Uint8Array): string {
  try {
    return JSON.parse(utf8.decode(quoted));
  } catch {
    fail("The key has a string that is not UTF-8");
  }
}

/** Where each member's value starts (by name), every value checked and skipped; duplicates refused. */
function scanMembers(bytes: Uint8Array): (name: string) => number {
  const starts = new Map<string, number>();
  const start = skipSpace(bytes, 0);
  if (bytes[start] !== 0x7b) fail("The key is not a JSON object");
  const end = skipObject(bytes, start, 1, (key, value) => {
    const name = decodeString(key);
    if (starts.has(name)) fail(`The key has more than one "${name}" member`);
    if (name === "oth") fail('Multi-prime RSA keys ("oth") are not supported');
    starts.set(name, value);
    return skipValue(bytes, value, 1);
  });
  if (skipSpace(bytes, end) !== bytes.length) notJson(skipSpace(bytes, end));
  return (name) => starts.get(name) ?? fail(`The key lacks its "${name}" member`);
}

/** The string member `name` (public text only: `kty` or `crv`), decoded. */
function textMember(bytes: Uint8Array, valueAt: (name: string) => number, name: string): string {
  const start = valueAt(name);
  if (bytes[start] !== QUOTE) fail(`The key's "${name}" member is not a string`);
  return decodeString(bytes.subarray(start, skipString(bytes, start)));
}

/** The bytes of the base64url string at `start` (no escapes) in a new buffer, and its character range. */
function decodeBase64url(bytes: Uint8Array, start: number, name: string): [Uint8Array, [number, number]] {
  if (bytes[start] !== QUOTE) fail(`The key's "${name}" member is not a string`);
  let end = start + 1;
  for (let byte = bytes[end]; byte !== QUOTE; byte = bytes[++end]) {
    if (byte === BACKSLASH) fail(`The key's "${name}" member has a JSON escape`);
    if (BASE64URL[byte ?? 0]! < 0) fail(`The key's "${name}" member is not base64url`);
  }
  const length = end - start - 1, size = Math.floor((length * 3) / 4);
  if (length === 0 || length % 4 === 1) fail(`The key's "${name}" member is not base64url`);
  if (size > MAX_MEMBER) fail(`The key's "${name}" member is longer than ${MAX_MEMBER} bytes`);
  // The bits the last character has beyond the last byte must be zero: one encoding per value.
  if ((BASE64URL[bytes[end - 1]!]! & ((1 << ((length * 6) % 8)) - 1)) !== 0) {
    fail(`The key's "${name}" member is not canonical base64url`);
  }
  const out = new Uint8Array(size);
  let bits = 0, buffered = 0, written = 0;
  for (let at = start + 1; at < end; at++) {
    buffered = (buffered << 6) | BASE64URL[bytes[at]!]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = buffered >> bits;
      buffered &= (1 << bits) - 1;
    }
  }
  return [out, [start + 1, end]];
}

/** A DER node: a tag and either content bytes (after an optional 0x00) or child nodes. */
interface Der {
  readonly tag: number;
  readonly size: number;
  readonly encoded: number;
  readonly body: Uint8Array | readonly Der[];
  readonly zeroPrefix: boolean;
}

const INTEGER = 0x02, BIT_STRING = 0x03, OCTET_STRING = 0x04, NULL = 0x05, OID = 0x06, SEQUENCE = 0x30;
const EXPLICIT_1 = 0xa1;

function lengthSize(size: number): number {
  return size < 0x80 ? 1 : size < 0x100 ? 2 : size < 0x10000 ? 3 : 4;
}

function der(tag: number, body: Uint8Array | readonly Der[], zeroPrefix = false): Der {
  const content = ArrayBuffer.isView(body) ? body.length : body.reduce((sum, child) => sum + child.encoded, 0);
  const size = content + (zeroPrefix ? 1 : 0);
  return { tag, size, encoded: 1 + lengthSize(size) + size, body, zeroPrefix };
}

/** A DER INTEGER of the unsigned big-endian `bytes`: leading zeros dropped, 0x00 put first when the high bit is set. */
function derInteger(bytes: Uint8Array): Der {
  let first = 0;
  while (first < bytes.length && bytes[first] === 0) first++;
  const body = bytes.subarray(first);
  return der(INTEGER, body, body.length === 0 || body[0]! >= 0x80);
}

function write(node: Der, out: Uint8Array, at: number): number {
  out[at++] = node.tag;
  const lengthBytes = lengthSize(node.size) - 1; // long form: 0x80 + count, then big-endian
  out[at++] = lengthBytes === 0 ? node.size : 0x80 | lengthBytes;
  for (let i = lengthBytes - 1; i >= 0; i--) out[at++] = node.size >> (8 * i);
  if (node.zeroPrefix) out[at++] = 0;
  if (!ArrayBuffer.isView(node.body)) return node.body.reduce((next, child) => write(child, out, next), at);
  out.set(node.body, at);
  return at + node.body.length;
}

/** The DER of `node`, written once into a fresh buffer: no partial encoding is ever copied. */
function encodeDer(node: Der): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(node.encoded);
  write(node, out, 0);
  return out;
}

const VERSION_0 = derInteger(Uint8Array.of(0));
const VERSION_1 = derInteger(Uint8Array.of(1));
const RSA_ENCRYPTION = der(OID, Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01));
const EC_PUBLIC_KEY = der(OID, Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01));
const PRIME256V1 = der(OID, Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07));
const ED25519 = der(OID, Uint8Array.of(0x2b, 0x65, 0x70));
const NO_PARAMETERS = der(NULL, new Uint8Array(0));

/** PKCS#8 PrivateKeyInfo (RFC 5208): version 0, the algorithm identifier, the private key. */
function privateKeyInfo(algorithm: readonly Der[], privateKey: Der): Der {
  return der(SEQUENCE, [VERSION_0, der(SEQUENCE, algorithm), der(OCTET_STRING, [privateKey])]);
}

/**
 * The PrivateKeyInfo of each supported key, laid out as `node:crypto` (OpenSSL) exports it:
 * RSAPrivateKey (RFC 8017), ECPrivateKey (RFC 5915) with the public key but without the optional
 * curve parameters, which the algorithm identifier already names, and RFC 8410 for Ed25519.
 */
const LAYOUTS: Readonly<Record<string, (members: (name: string, size?: number) => Uint8Array) => Der>> = {
  RSA: (members) => {
    const integers = RSA_MEMBERS.map((name) => derInteger(members(name)));
    return privateKeyInfo([RSA_ENCRYPTION, NO_PARAMETERS], der(SEQUENCE, [VERSION_0, ...integers]));
  },
  "EC P-256": (members) => {
    const point = der(BIT_STRING, Uint8Array.of(0x04, ...members("x", 32), ...members("y", 32)), true);
    const d = der(OCTET_STRING, members("d", 32));
    return privateKeyInfo([EC_PUBLIC_KEY, PRIME256V1], der(SEQUENCE, [VERSION_1, d, der(EXPLICIT_1, [point])]));
  },
  "OKP Ed25519": (members) => {
    members("x", 32);
    return privateKeyInfo([ED25519], der(OCTET_STRING, members("d", 32)));
  },
};

/**
 * Reads the UTF-8 JSON of a private RSA, EC P-256 or Ed25519 JWK into its public JWK and the
 * PKCS#8 DER of its private key, the same byte for byte as `node:crypto` exports. Members come in
 * any order; all but kty, crv, n, e, x, y and the private ones are skipped whatever their type.
 * Private members must be plain base64url strings. Every buffer that held private bytes but the
 * returned `pkcs8` is zeroed. Throws `invalid_key` naming the member or problem, never a value.
 *
 * @example
 * ```ts
 * const { privateKey } = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign"]) as CryptoKeyPair;
 * const plaintext = new TextEncoder().encode(JSON.stringify(await crypto.subtle.exportKey("jwk", privateKey)));
 * const { publicJwk, pkcs8 } = privateKeyParts(plaintext);
 * const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
 * pkcs8.fill(0);
 * ```
 */
export function privateKeyParts(plaintext: Uint8Array): PrivateKeyParts {
  if (plaintext.length > MAX_PLAINTEXT) fail(`The key is larger than ${MAX_PLAINTEXT} bytes`);
  const secrets: Uint8Array[] = [];
  try {
    const valueAt = scanMembers(plaintext);
    const kty = textMember(plaintext, valueAt, "kty");
    if (kty !== "RSA" && kty !== "EC" && kty !== "OKP") fail(`Unsupported key type "${kty}"`);
    const publicJwk: Record<string, string> = { kty };
    if (kty !== "RSA") publicJwk.crv = textMember(plaintext, valueAt, "crv");
    const layout = LAYOUTS[kty === "RSA" ? kty : `${kty} ${publicJwk.crv}`];
    if (layout === undefined) fail(`Unsupported curve "${publicJwk.crv}" for key type "${kty}"`);
    const info = layout((name, size) => {
      const [decoded, range] = decodeBase64url(plaintext, valueAt(name), name);
      if (PRIVATE.has(name)) secrets.push(decoded);
      else publicJwk[name] = utf8.decode(plaintext.subarray(...range));
      if (size !== undefined && decoded.length !== size) fail(`The key's "${name}" member must be ${size} bytes`);
      return decoded;
    });
    return Object.freeze({ publicJwk: Object.freeze(publicJwk) as JWK, pkcs8: encodeDer(info) });
  } finally {
    for (const secret of secrets) secret.fill(0);
  }
}
