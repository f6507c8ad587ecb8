/**
 * Micro benchmarks of token signing: `issueToken()` per algorithm and per signing backend
 * (WebCrypto, OpenSSL through FFI, node:crypto for EdDSA), keys imported once, next to the bare `crypto.subtle.sign`
 * of a fixed RS256 payload that the Deno reference does per request. The `sign` group is the
 * measurement behind which algorithms OpenSSL signs by default (`OPENSSL_ALGS`); 16 signatures
 * run at once per iteration, as under load, so OpenSSL's calls spread over the cores.
 * @module
 */
import type { KeyView, SigningKey } from "../lib/core/key_ring.ts";
import { type Alg, ALGS, generateKeyMaterial, importSigningKey } from "../lib/core/key_material.ts";
import { issueToken } from "../lib/core/tokens.ts";
import { privateKeyParts } from "../lib/core/private_key.ts";
import type { SigningBackend } from "../lib/core/signer.ts";
import { NODE_CRYPTO_ALGS, nodeCryptoBackend } from "../lib/signing/node_crypto.ts";
import { openSslBackend } from "../lib/signing/openssl.ts";
import { webCryptoBackend } from "../lib/signing/webcrypto.ts";

const now = Math.floor(Date.now() / 1000);
const backends: SigningBackend[] = [webCryptoBackend(), openSslBackend(), nodeCryptoBackend()];

async function viewFor(alg: Alg, backend: SigningBackend): Promise<KeyView> {
  const material = await generateKeyMaterial(alg);
  const key: SigningKey = {
    kid: material.kid,
    alg,
    signer: await backend.importKey(privateKeyParts(material.privateBytes), alg),
    exp: now + 86_400,
    publishedAt: now - 600,
    activatesAt: now - 300,
    retiresAt: now + 3600,
  };
  return {
    jwks: { body: new Uint8Array(), etag: '""', keys: [] },
    active: key,
    expired: null,
    next: null,
    until: Infinity,
    changedAt: 0,
    problems: [],
  };
}

const options = { issuer: "http://127.0.0.1:8080", ttl: 900, now };
const rsaMaterial = await generateKeyMaterial("RS256");
const rsa = await importSigningKey(JSON.parse(new TextDecoder().decode(rsaMaterial.privateBytes)), "RS256");
const input = new TextEncoder().encode(
  "eyJhbGciOiJSUzI1NiIsImtpZCI6InJlZmVyZW5jZSIsInR5cCI6IkpXVCJ9." +
    "eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJzdWIiOiJhbm9ueW1vdXMiLCJpYXQiOjAsImV4cCI6OTAwfQ",
);
const BURST = 16;
Deno.bench("crypto.subtle.sign RS256 of a fixed payload ×16", { group: "RS256", baseline: true }, async () => {
  await Promise.all(Array.from({ length: BURST }, () => crypto.subtle.sign("RSASSA-PKCS1-v1_5", rsa, input)));
});
for (const alg of ALGS) {
  for (const backend of backends) {
    if (backend.name === "node:crypto" && !NODE_CRYPTO_ALGS.includes(alg)) continue;
    const view = await viewFor(alg, backend);
    Deno.bench(`issueToken() ${alg} ${backend.name} ×16`, {
      group: alg,
      baseline: alg !== "RS256" && backend.name === "webcrypto",
    }, async () => {
      await Promise.all(Array.from({ length: BURST }, () => issueToken(view, "alice", options)));
    });
  }
}
