import assert from "node:assert/strict";
import type { AppError } from "../../lib/core/errors.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { MAX_SIGNING_INPUT } from "../../lib/core/signer.ts";
import { NODE_CRYPTO_ALGS, nodeCryptoBackend } from "../../lib/signing/node_crypto.ts";
import { webCryptoBackend } from "../../lib/signing/webcrypto.ts";
import {
  equalBytes,
  hasNode,
  keyParts,
  nodeVerifies,
  privateJwk,
  randomBytes,
  randomInputs,
  webCryptoVerifies,
} from "./support.ts";

const backend = nodeCryptoBackend();
const webcrypto = webCryptoBackend();

Deno.test("the node:crypto backend signs EdDSA only and is named for the runtime", () => {
  assert.deepEqual(NODE_CRYPTO_ALGS, ["EdDSA"]);
  assert.equal(backend.name, "node:crypto");
  assert.equal(backend.library, `Deno ${Deno.version.deno} node:crypto`);
});

Deno.test("every Ed25519 signature from node:crypto equals WebCrypto's, byte for byte, and Node.js verifies it", async () => {
  // Ed25519 is deterministic (RFC 8032): the same key and message give the same 64 bytes.
  const jwk = await privateJwk("EdDSA");
  const ours = await backend.importKey(keyParts(jwk), "EdDSA");
  const theirs = await webcrypto.importKey(keyParts(jwk), "EdDSA");
  assert.equal(ours.backend, "node:crypto");
  assert.equal(ours.alg, "EdDSA");
  const inputs = randomInputs(3000);
  const signatures: Uint8Array[] = [];
  for (const input of inputs) {
    const signature = await ours.sign(input);
    assert.equal(signature.byteLength, 64);
    assert.ok(equalBytes(signature, await theirs.sign(input)), `${input.byteLength} bytes sign the same`);
    signatures.push(signature);
  }
  if (hasNode()) {
    const cases = inputs.slice(0, 500).map((data, i) => ({
      alg: "EdDSA" as const,
      jwk,
      data,
      signature: signatures[i]!,
    }));
    assert.ok((await nodeVerifies(cases)).every(Boolean), "Node.js verifies every signature");
    const tampered = cases.slice(0, 20).map((c) => ({ ...c, data: new Uint8Array([...c.data, 1]) }));
    assert.ok((await nodeVerifies(tampered)).every((ok) => !ok), "and rejects altered inputs");
  }
  // A fresh key per import: two keys sign differently, so the signer is not a fixed key.
  const other = await backend.importKey(keyParts(await freshEd25519()), "EdDSA");
  assert.ok(!equalBytes(await other.sign(inputs[1]!), signatures[1]!));
});

async function freshEd25519() {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
  return await crypto.subtle.exportKey("jwk", pair.privateKey);
}

Deno.test("inputs from 0 bytes up to the 1 MiB cap sign; one byte more is refused", async () => {
  const jwk = await privateJwk("EdDSA");
  const signer = await backend.importKey(keyParts(jwk), "EdDSA");
  const sizes = [0, 1, 63, 64, 65, 4096, 65_536, MAX_SIGNING_INPUT - 1, MAX_SIGNING_INPUT];
  for (let i = 0; i < 20; i++) sizes.push(Math.floor(Math.random() * MAX_SIGNING_INPUT));
  for (const size of sizes) {
    const input = randomBytes(size);
    assert.ok(await webCryptoVerifies("EdDSA", jwk, input, await signer.sign(input)), `${size} bytes`);
  }
  await assert.rejects(
    signer.sign(new Uint8Array(MAX_SIGNING_INPUT + 1)),
    (e: AppError) => e.code === "payload_too_large",
  );
});

Deno.test("a closed signer refuses to sign, and closing twice is harmless", async () => {
  const signer = await backend.importKey(keyParts(await privateJwk("EdDSA")), "EdDSA");
  signer.close?.();
  signer.close?.();
  await assert.rejects(signer.sign(new Uint8Array([1])), (e: AppError) => e.code === "no_signing_key");
});

Deno.test("node:crypto refuses keys it should not hold", async (t) => {
  for (const alg of ["RS256", "PS256", "ES256"] as const satisfies readonly Alg[]) {
    await t.step(`${alg}, with its own key or an Ed25519 one`, async () => {
      for (const key of [await privateJwk(alg), await privateJwk("EdDSA")]) {
        await assert.rejects(backend.importKey(keyParts(key), alg), (e: AppError) => e.code === "invalid_key");
      }
    });
  }
  await t.step("EdDSA with a P-256 key", async () => {
    await assert.rejects(
      backend.importKey(keyParts(await privateJwk("ES256")), "EdDSA"),
      (e: AppError) => e.code === "invalid_key" && /Ed25519 keys, not EdDSA with a key of type "EC"/.test(e.message),
    );
  });
  await t.step("DER that does not parse", async () => {
    const parts = keyParts(await privateJwk("EdDSA"));
    await assert.rejects(
      backend.importKey({ publicJwk: parts.publicJwk, pkcs8: parts.pkcs8.slice(0, 20) }, "EdDSA"),
      (e: AppError) => e.code === "invalid_key" && /could not read the key/.test(e.message),
    );
  });
  await t.step("a private key that is not the public key's pair", async () => {
    const parts = keyParts(await privateJwk("EdDSA"));
    const stranger = keyParts(await freshEd25519());
    await assert.rejects(
      backend.importKey({ publicJwk: parts.publicJwk, pkcs8: stranger.pkcs8 }, "EdDSA"),
      (e: AppError) => e.code === "invalid_key" && /does not match its public key/.test(e.message),
    );
  });
});

Deno.test("the import leaves the caller's DER as it was, and the signer still signs once it is zeroed", async () => {
  const parts = keyParts(await privateJwk("EdDSA"));
  const before = parts.pkcs8.slice();
  const signer = await backend.importKey(parts, "EdDSA");
  assert.ok(equalBytes(parts.pkcs8, before), "untouched: the caller zeroes it");
  parts.pkcs8.fill(0);
  const jwk = await privateJwk("EdDSA");
  const data = new TextEncoder().encode("after the DER was zeroed");
  assert.ok(await webCryptoVerifies("EdDSA", jwk, data, await signer.sign(data)), "the key lives in the KeyObject");
});
