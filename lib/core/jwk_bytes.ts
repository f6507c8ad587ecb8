/**
 * The reverse of `private_key.ts`: the UTF-8 JSON of a private JWK, the plaintext that gets
 * sealed, written from the key's PKCS#8 DER (as WebCrypto exports a generated key) and its
 * public JWK, without a private member ever becoming a JS string: the DER is read in place and
 * each private member is base64url-encoded byte by byte into the output.
 * @module
 */
import { AppError } from "./errors.ts";
import { BASE64URL_ALPHABET } from "./private_key.ts";

/** A public JWK as published (`key_material.ts`'s `PublicJwk`): string members, `kty` first. */
type PublicMembers = { readonly kty: string; readonly [member: string]: string };

/** The private members of each key type, in the order they are written (RFC 7518 §6). */
const RSA_PRIVATE = ["d", "p", "q", "dp", "dq", "qi"] as const;
const BASE64URL = new TextEncoder().encode(BASE64URL_ALPHABET);
const INTEGER = 0x02, OCTET_STRING = 0x04, SEQUENCE = 0x30;

function malformed(what: string): never {
  throw new AppError("invalid_key", `The PKCS#8 key is malformed: ${what}`);
}

/** A DER element read in place: its tag and where its content lies in the buffer. */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/** The element starting at `at`, whose content must end by `limit`. */
function element(der: Uint8Array, at: number, limit: number): Element {
  const tag = der[at];
  let length = der[at + 1];
  if (tag === undefined || length === undefined) malformed("it ends early");
  let start = at + 2;
  if (length > 0x80 && length <= 0x83) {
    const count = length - 0x80;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[start + i] ?? malformed("it ends early"));
    start += count;
  } else if (length >= 0x80) malformed("an unsupported length");
  if (start + length > limit) malformed("an element runs past its container");
  return { tag, start, end: start + length };
}

/** The elements directly inside `container`, in order. */
function children(der: Uint8Array, container: Element): Element[] {
  const out: Element[] = [];
  for (let at = container.start; at < container.end;) {
    const child = element(der, at, container.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

function expectTag(item: Element | undefined, tag: number, what: string): Element {
  if (item === undefined || item.tag !== tag) malformed(`${what} is missing`);
  return item;
}

/** The key inside PrivateKeyInfo (RFC 5208): the content of its `privateKey` OCTET STRING. */
function innerKey(der: Uint8Array): Element {
  const info = expectTag(element(der, 0, der.length), SEQUENCE, "PrivateKeyInfo");
  if (info.end !== der.length) malformed("bytes follow the key");
  const octets = expectTag(children(der, info)[2], OCTET_STRING, "the private key");
  return element(der, octets.start, octets.end);
}

/** The byte ranges of each private member of a `kty` key, leading zeros of RSA integers dropped. */
function privateMembers(der: Uint8Array, kty: string): [string, Element][] {
  const key = innerKey(der);
  if (kty === "RSA") {
    const integers = children(der, expectTag(key, SEQUENCE, "RSAPrivateKey"));
    if (integers.length !== 9 || integers.some((item) => item.tag !== INTEGER)) malformed("RSAPrivateKey");
    return RSA_PRIVATE.map((name, i) => {
      const item = integers[i + 3]!; // version, n, e come first
      let start = item.start;
      while (start < item.end - 1 && der[start] === 0) start++; // Base64urlUInt: no leading zeros
      return [name, { tag: INTEGER, start, end: item.end }];
    });
  }
  if (kty === "EC") {
    const d = children(der, expectTag(key, SEQUENCE, "ECPrivateKey"))[1];
    return [["d", expectTag(d, OCTET_STRING, "the EC private key")]];
  }
  if (kty === "OKP") return [["d", expectTag(key, OCTET_STRING, "the Ed25519 private key")]];
  malformed(`unsupported key type "${kty}"`);
}

/** Base64url (no padding) of `der[from, to)`, written into `out` at `at`; the new end. */
function writeBase64url(der: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  let i = from;
  for (; i + 3 <= to; i += 3) {
    const word = (der[i]! << 16) | (der[i + 1]! << 8) | der[i + 2]!;
    out[at++] = BASE64URL[word >> 18]!;
    out[at++] = BASE64URL[(word >> 12) & 63]!;
    out[at++] = BASE64URL[(word >> 6) & 63]!;
    out[at++] = BASE64URL[word & 63]!;
  }
  const left = to - i;
  if (left > 0) {
    const word = (der[i]! << 16) | (left === 2 ? der[i + 1]! << 8 : 0);
    out[at++] = BASE64URL[word >> 18]!;
    out[at++] = BASE64URL[(word >> 12) & 63]!;
    if (left === 2) out[at++] = BASE64URL[(word >> 6) & 63]!;
  }
  return at;
}

/**
 * The UTF-8 JSON of the private JWK of `pkcs8`: `publicJwk`'s members, then the private ones
 * (`d`, `p`, `q`, `dp`, `dq`, `qi` for RSA; `d` otherwise), exactly as `JSON.stringify` of the
 * same object would write it. Throws `invalid_key` when the DER is not a key of that type.
 */
export function privateJwkBytes(pkcs8: Uint8Array, publicJwk: PublicMembers): Uint8Array {
  const members = privateMembers(pkcs8, publicJwk.kty);
  const head = new TextEncoder().encode(JSON.stringify(publicJwk).slice(0, -1));
  const names = members.map(([name]) => new TextEncoder().encode(`,"${name}":"`));
  const size = members.reduce(
    (sum, [, item], i) => sum + names[i]!.length + Math.ceil(((item.end - item.start) * 4) / 3) + 1,
    head.length + 1,
  );
  const out = new Uint8Array(size);
  out.set(head);
  let at = head.length;
  members.forEach(([, item], i) => {
    out.set(names[i]!, at);
    at = writeBase64url(pkcs8, item.start, item.end, out, at + names[i]!.length);
    out[at++] = 0x22; // closing quote
  });
  out[at++] = 0x7d; // closing brace
  return out.subarray(0, at);
}
