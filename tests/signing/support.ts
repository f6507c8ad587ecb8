/**
 * Fixtures of the signing tests: real keys per algorithm and RSA size (generated once per
 * process), random signing inputs, and the independent verifiers (node:crypto in this process,
 * and Node.js itself in a subprocess when it is installed).
 * @module
 */
import { constants, createPublicKey, type JsonWebKeyInput, verify } from "node:crypto";
import type { JWK } from "jose";
import { type Alg, KEY_GENERATION } from "../../lib/core/key_material.ts";
import { type PrivateKeyParts, privateKeyParts } from "../../lib/core/private_key.ts";

const keys = new Map<string, Promise<JWK>>();

/** A private JWK for `alg` (RSA of `bits`), made once per process. */
export function privateJwk(alg: Alg, bits = 2048): Promise<JWK> {
  const id = `${alg}/${bits}`;
  let key = keys.get(id);
  if (key === undefined) {
    const params = alg === "RS256" || alg === "PS256"
      ? { ...KEY_GENERATION[alg], modulusLength: bits }
      : KEY_GENERATION[alg];
    key = (async () => {
      const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]) as CryptoKeyPair;
      return await crypto.subtle.exportKey("jwk", pair.privateKey) as JWK;
    })();
    keys.set(id, key);
  }
  return key;
}

/** A private JWK already in memory as a backend takes it: PKCS#8 DER (fresh each call) and its public half. */
export function keyParts(jwk: object): PrivateKeyParts {
  return privateKeyParts(new TextEncoder().encode(JSON.stringify(jwk)));
}

/** The public members of `jwk`. */
export function publicOf(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ext: _ext, ...pub } = jwk;
  return pub;
}

/** `length` random bytes (getRandomValues fills at most 64 KiB a call). */
export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(length, i + 65536)));
  return bytes;
}

/** `count` random inputs, from 0 bytes up to `maxBytes`, the empty input first. */
export function randomInputs(count: number, maxBytes = 4096): Uint8Array[] {
  const out: Uint8Array[] = [new Uint8Array(0)];
  while (out.length < count) out.push(randomBytes(Math.floor(Math.random() * (maxBytes + 1))));
  return out;
}

/** WebCrypto verification parameters per algorithm. */
const VERIFY: Record<Alg, { key: Algorithm | EcKeyImportParams | RsaHashedImportParams; verify: Algorithm }> = {
  RS256: {
    key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as RsaHashedImportParams,
    verify: { name: "RSASSA-PKCS1-v1_5" },
  },
  PS256: {
    key: { name: "RSA-PSS", hash: "SHA-256" } as RsaHashedImportParams,
    verify: { name: "RSA-PSS", saltLength: 32 } as Algorithm,
  },
  ES256: { key: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } as Algorithm },
  EdDSA: { key: { name: "Ed25519" }, verify: { name: "Ed25519" } },
};

/** Verifies with WebCrypto. */
export async function webCryptoVerifies(alg: Alg, jwk: JWK, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const key = await crypto.subtle.importKey("jwk", publicOf(jwk) as JsonWebKey, VERIFY[alg].key, false, ["verify"]);
  return await crypto.subtle.verify(VERIFY[alg].verify, key, signature as BufferSource, data as BufferSource);
}

function nodeOptions(alg: Alg) {
  if (alg === "PS256") return { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  if (alg === "ES256") return { dsaEncoding: "ieee-p1363" as const };
  return {};
}

/** Verifies with node:crypto (the runtime's own implementation, not OpenSSL's). */
export function nodeCryptoVerifies(alg: Alg, jwk: JWK, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: publicOf(jwk) as JsonWebKeyInput["key"], format: "jwk" });
  return verify(alg === "EdDSA" ? null : "sha256", data, { key, ...nodeOptions(alg) }, signature);
}

/** True when a `node` executable is on PATH. */
export function hasNode(): boolean {
  try {
    return new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const NODE_VERIFIER = `
const crypto = require("node:crypto");
let text = "";
process.stdin.on("data", (c) => (text += c));
process.stdin.on("end", () => {
  const results = JSON.parse(text).map(({ alg, jwk, data, signature }) => {
    const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
    const opts = alg === "PS256" ? { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
      : alg === "ES256" ? { dsaEncoding: "ieee-p1363" } : {};
    return crypto.verify(alg === "EdDSA" ? null : "sha256", Buffer.from(data, "base64"), { key, ...opts },
      Buffer.from(signature, "base64"));
  });
  process.stdout.write(JSON.stringify(results));
});
`;

/** Verifies each case with Node.js (its own OpenSSL) in one subprocess. */
export async function nodeVerifies(
  cases: readonly { alg: Alg; jwk: JWK; data: Uint8Array; signature: Uint8Array }[],
): Promise<boolean[]> {
  const child = new Deno.Command("node", { args: ["-e", NODE_VERIFIER], stdin: "piped", stdout: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(cases.map((c) => ({
    alg: c.alg,
    jwk: publicOf(c.jwk),
    data: c.data.toBase64(),
    signature: c.signature.toBase64(),
  })))));
  await writer.close();
  const output = await child.output();
  if (!output.success) throw new Error("the Node.js verifier failed");
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/** True when `a` and `b` hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}
