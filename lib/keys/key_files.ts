/**
 * Private key files as people hand them around: PEM (PKCS#8 `PRIVATE KEY`, PKCS#1
 * `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`) and JSON Web Keys (a private JWK, or a JWK Set
 * holding exactly one). Turns their text into a private JWK or {@linkcode KeyMaterial}, and
 * writes a key back out as PKCS#8 PEM or JWK. Reads and writes no files itself.
 * @module
 */
import { createPrivateKey, type JsonWebKeyInput } from "node:crypto";
import type { JWK } from "jose";
import { AppError } from "../core/errors.ts";
import { type Alg, type KeyMaterial, materialFromJwk } from "../core/key_material.ts";

/** Formats a private key file can be written in. */
export type KeyFileFormat = "pem" | "jwk";

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function fromPem(text: string): JWK {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const labels = blocks.map((block) => block[1]!);
  if (labels.includes("ENCRYPTED PRIVATE KEY")) {
    throw new AppError(
      "invalid_key",
      "The PEM key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN.pem)",
    );
  }
  const block = blocks.find((candidate) => /^(RSA |EC )?PRIVATE KEY$/.test(candidate[1]!));
  if (block === undefined) {
    const found = labels.length === 0 ? "no PEM block" : labels.map((label) => `"${label}"`).join(", ");
    throw new AppError("invalid_key", `The PEM file holds no private key (found ${found})`);
  }
  try {
    return createPrivateKey({ key: block[0], format: "pem" }).export({ format: "jwk" }) as JWK;
  } catch {
    throw new AppError("invalid_key", `The PEM block "${block[1]}" is not a valid private key`);
  }
}

function fromJson(text: string): JWK {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError("invalid_key", "The key file is neither PEM nor valid JSON");
  }
  if (parsed !== null && typeof parsed === "object" && Array.isArray((parsed as { keys?: unknown }).keys)) {
    const keys = (parsed as { keys: unknown[] }).keys;
    if (keys.length !== 1) {
      throw new AppError("invalid_key", `The JWK Set holds ${keys.length} keys; expected exactly one`);
    }
    parsed = keys[0];
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new AppError("invalid_key", "The JSON is not a JSON Web Key");
  }
  const jwk = parsed as JWK;
  if (typeof jwk.kty !== "string") throw new AppError("invalid_key", 'The JSON Web Key has no "kty" member');
  if (typeof jwk.d !== "string") throw new AppError("invalid_key", "The key has no private part");
  return jwk;
}

/**
 * Parses the text of a private key file (PEM or JWK) into a private JWK. Throws
 * `invalid_key` with one line saying what is wrong; never echoes key material.
 */
export function parsePrivateKey(text: string): JWK {
  const trimmed = text.trim();
  if (trimmed === "") throw new AppError("invalid_key", "The key file is empty");
  return /^[[{]/.test(trimmed) ? fromJson(trimmed) : fromPem(trimmed);
}

/**
 * The {@linkcode KeyMaterial} of a private key file: validated, with its thumbprint kid. `alg`
 * defaults to the JWK's `alg`, else RS256 for RSA, ES256 for P-256 and EdDSA for Ed25519.
 */
export async function keyMaterialFromText(text: string, alg?: Alg): Promise<KeyMaterial> {
  const jwk = parsePrivateKey(text);
  return alg === undefined ? await materialFromJwk(jwk) : await materialFromJwk(jwk, alg);
}

/** The text of a private key file for `material`: PKCS#8 PEM, or the private JWK as JSON. */
export function privateKeyText(material: KeyMaterial, format: KeyFileFormat): string {
  const text = new TextDecoder().decode(material.privateBytes);
  if (format === "jwk") return JSON.stringify(JSON.parse(text), null, 2) + "\n";
  const { kid: _kid, use: _use, alg: _alg, ...jwk } = JSON.parse(text);
  return createPrivateKey({ key: jwk, format: "jwk" } as JsonWebKeyInput)
    .export({ type: "pkcs8", format: "pem" }) as string;
}
