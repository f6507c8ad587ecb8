/**
 * Micro benchmarks of token signing: `issueToken()` per algorithm with keys imported once, next
 * to the bare `crypto.subtle.sign` of a fixed RS256 payload that reference (b) does per request.
 * @module
 */
import type { KeyView, SigningKey } from "../lib/core/key_ring.ts";
import { type Alg, ALGS, generateKeyMaterial, importSigningKey } from "../lib/core/key_material.ts";
import { issueToken } from "../lib/core/tokens.ts";

const now = Math.floor(Date.now() / 1000);

async function viewFor(alg: Alg): Promise<KeyView> {
  const material = await generateKeyMaterial(alg);
  const key: SigningKey = {
    kid: material.kid,
    alg,
    key: await importSigningKey(JSON.parse(new TextDecoder().decode(material.privateBytes)), alg),
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
  };
}

const views = new Map<Alg, KeyView>();
for (const alg of ALGS) views.set(alg, await viewFor(alg));
const options = { issuer: "http://127.0.0.1:8080", ttl: 900, now };

const rsa = views.get("RS256")!.active!.key;
const input = new TextEncoder().encode(
  "eyJhbGciOiJSUzI1NiIsImtpZCI6InJlZmVyZW5jZSIsInR5cCI6IkpXVCJ9." +
    "eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJzdWIiOiJhbm9ueW1vdXMiLCJpYXQiOjAsImV4cCI6OTAwfQ",
);
Deno.bench("crypto.subtle.sign RS256 of a fixed payload (reference b)", { group: "sign", baseline: true }, async () => {
  await crypto.subtle.sign("RSASSA-PKCS1-v1_5", rsa, input);
});
for (const alg of ALGS) {
  Deno.bench(`issueToken() ${alg}`, { group: "sign" }, async () => {
    await issueToken(views.get(alg)!, "alice", options);
  });
}
