/**
 * Micro benchmarks of keys at rest: sealing and opening one RSA private JWK with AES-256-GCM
 * (done when a key is created and once when it is loaded, never per request).
 * @module
 */
import { createSealer } from "../lib/core/seal.ts";
import { generateKeyMaterial } from "../lib/core/key_material.ts";

const sealer = createSealer("bench master secret, not for production");
const { privateBytes } = await generateKeyMaterial("RS256");
const blob = sealer.seal(7, privateBytes);

Deno.bench(`seal() one RSA private JWK (${privateBytes.byteLength} bytes)`, { group: "at rest" }, () => {
  sealer.seal(7, privateBytes);
});
Deno.bench(`open() one RSA private JWK (${privateBytes.byteLength} bytes)`, { group: "at rest" }, () => {
  sealer.open(7, blob);
});
