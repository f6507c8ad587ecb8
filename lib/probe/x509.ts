/**
 * A minimal self-signed X.509 certificate (DER) for the probe's attacker key, so the `x5u` and
 * `x5c` cases carry a certificate a careless verifier would really parse and trust. Neither jose
 * nor WebCrypto makes certificates; this encodes the few ASN.1 structures RFC 5280 needs and
 * nothing more. Not for any other use: no extensions, no chain, no revocation.
 * @module
 */
import { signBytes } from "./jws.ts";

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const size = parts.reduce((sum, part) => sum + part.length, 0);
  const head = [tag, ...length(size)];
  const out = new Uint8Array(head.length + size);
  out.set(head);
  let at = head.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const sequence = (...parts: Uint8Array[]) => tlv(0x30, ...parts);

/** A DER INTEGER from big-endian unsigned bytes. */
function integer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return (trimmed[0]! & 0x80) === 0 ? tlv(0x02, trimmed) : tlv(0x02, new Uint8Array([0]), trimmed);
}

function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const body = [40 * first + second];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      chunk.unshift(0x80 | (value & 0x7f));
    }
    body.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(body));
}

function utcTime(unixSeconds: number): Uint8Array<ArrayBuffer> {
  const iso = new Date(unixSeconds * 1000).toISOString();
  const text = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) +
    iso.slice(17, 19) + "Z";
  return tlv(0x17, new TextEncoder().encode(text));
}

function name(commonName: string): Uint8Array<ArrayBuffer> {
  return sequence(tlv(0x31, sequence(oid("2.5.4.3"), tlv(0x0c, new TextEncoder().encode(commonName)))));
}

/** The signature algorithm identifier for a signing key, by WebCrypto algorithm. */
function signatureAlgorithm(key: CryptoKey): Uint8Array<ArrayBuffer> {
  switch (key.algorithm.name) {
    case "RSASSA-PKCS1-v1_5":
      return sequence(oid("1.2.840.113549.1.1.11"), tlv(0x05)); // sha256WithRSAEncryption
    case "ECDSA":
      return sequence(oid("1.2.840.10045.4.3.2")); // ecdsa-with-SHA256
    case "Ed25519":
      return sequence(oid("1.3.101.112"));
    default:
      throw new TypeError(`Cannot sign a certificate with ${key.algorithm.name}`);
  }
}

/** Options of {@linkcode selfSignedCertificate}. */
export interface CertificateOptions {
  /** Start of validity, unix seconds; the certificate is valid for one day from then. */
  readonly notBefore: number;
  /** Subject and issuer common name. */
  readonly commonName: string;
}

/**
 * Makes a DER certificate for `publicKey` signed by `signingKey` (RSASSA-PKCS1-v1_5 SHA-256,
 * ECDSA P-256 or Ed25519), with the subject as its own issuer.
 */
export async function selfSignedCertificate(
  publicKey: CryptoKey,
  signingKey: CryptoKey,
  options: CertificateOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  const serial = crypto.getRandomValues(new Uint8Array(12));
  serial[0]! &= 0x7f;
  serial[0]! |= 0x01;
  const algorithm = signatureAlgorithm(signingKey);
  const tbs = sequence(
    tlv(0xa0, integer(new Uint8Array([2]))),
    integer(serial),
    algorithm,
    name(options.commonName),
    sequence(utcTime(options.notBefore), utcTime(options.notBefore + 86_400)),
    name(options.commonName),
    spki,
  );
  let signature = await signBytes(signingKey, tbs);
  if (signingKey.algorithm.name === "ECDSA") {
    // X.509 wants ECDSA-Sig-Value (a DER sequence of r and s), not JWS's raw r ‖ s.
    signature = sequence(integer(signature.subarray(0, 32)), integer(signature.subarray(32)));
  }
  return sequence(tbs, algorithm, tlv(0x03, new Uint8Array([0]), signature));
}

/** PEM text of a DER certificate. */
export function certificatePem(der: Uint8Array): string {
  const body = btoa(String.fromCharCode(...der)).replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}
