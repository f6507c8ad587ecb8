import assert from "node:assert/strict";
import type { JWK } from "jose";
import { hasCode } from "../../lib/core/errors.ts";
import { privateJwkBytes } from "../../lib/core/jwk_bytes.ts";
import { type Alg, generateKeyMaterial, KEY_GENERATION, publicJwk } from "../../lib/core/key_material.ts";
import { selfTest } from "../../lib/core/key_checks.ts";
import { privateKeyParts } from "../../lib/core/private_key.ts";
import { importWebCryptoSigner } from "../../lib/core/signer.ts";

const PRIVATE = ["d", "p", "q", "dp", "dq", "qi"];

/** A WebCrypto key pair's PKCS#8 DER, its public JWK as we publish it, and WebCrypto's own private JWK. */
async function webCryptoKey(alg: Alg, bits = 2048) {
  const params = "modulusLength" in KEY_GENERATION[alg]
    ? { ...KEY_GENERATION[alg], modulusLength: bits }
    : KEY_GENERATION[alg];
  const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]) as CryptoKeyPair;
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey) as JWK;
  return { der, jwk, pub: publicJwk(jwk, "kid-1", alg) };
}

/** What the sealed plaintext always was: `JSON.stringify` of the public members, then the private ones. */
function stringified(pub: object, jwk: JWK): Uint8Array {
  const out: Record<string, unknown> = { ...pub };
  for (const member of PRIVATE) {
    if (typeof (jwk as Record<string, unknown>)[member] === "string") out[member] = jwk[member as "d"];
  }
  return new TextEncoder().encode(JSON.stringify(out));
}

Deno.test("privateJwkBytes() writes what JSON.stringify of the private JWK wrote, and reads back to the same DER", async (t) => {
  const cases: [Alg, number, number][] = [
    ["RS256", 2048, 6],
    ["PS256", 3072, 2],
    ["RS256", 4096, 1],
    ["ES256", 0, 300],
    [
      "EdDSA",
      0,
      300,
    ],
  ];
  for (const [alg, bits, count] of cases) {
    await t.step(`${alg}${bits ? ` ${bits}` : ""}, ${count} keys`, async () => {
      for (let i = 0; i < count; i++) {
        const { der, jwk, pub } = await webCryptoKey(alg, bits || 2048);
        const bytes = privateJwkBytes(der, pub);
        assert.deepEqual(bytes, stringified(pub, jwk), `key ${i}: byte for byte`);
        assert.deepEqual(privateKeyParts(bytes).pkcs8, der, `key ${i}: reads back to WebCrypto's DER`);
      }
    });
  }
});

Deno.test("privateJwkBytes() refuses DER that is not a whole key of the public key's type, naming no value", async () => {
  const rsa = await webCryptoKey("RS256");
  const ec = await webCryptoKey("ES256");
  const refused = (der: Uint8Array, pub = rsa.pub) =>
    assert.throws(
      () => privateJwkBytes(der, pub),
      (error: Error) => hasCode(error, "invalid_key") && error.message.startsWith("The PKCS#8 key is malformed"),
    );
  refused(new Uint8Array(0));
  refused(rsa.der.subarray(0, rsa.der.length - 1));
  refused(Uint8Array.of(...rsa.der, 0));
  refused(ec.der, rsa.pub);
  refused(rsa.der, ec.pub);
  refused(rsa.der, { ...rsa.pub, kty: "oct" });
});

Deno.test("generated keys are sealed from DER: the plaintext is the private JWK, and it signs", async (t) => {
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"] as const) {
    await t.step(alg, async () => {
      const material = await generateKeyMaterial(alg);
      const jwk = JSON.parse(new TextDecoder().decode(material.privateBytes));
      assert.deepEqual(Object.keys(jwk).slice(0, 4), ["kty", "kid", "use", "alg"]);
      assert.equal(jwk.kid, material.kid);
      assert.equal(typeof jwk.d, "string");
      if (alg === "RS256" || alg === "PS256") {
        assert.deepEqual(Object.keys(jwk).slice(-6), PRIVATE);
        assert.equal(jwk.e, "AQAB");
        assert.equal(atob(jwk.n.replaceAll("-", "+").replaceAll("_", "/")).length, 256, "RSA 2048");
      }
      const { pkcs8 } = privateKeyParts(material.privateBytes);
      const signer = await importWebCryptoSigner({ publicJwk: material.publicJwk, pkcs8 }, alg);
      await selfTest((data) => signer.sign(data), material.publicJwk, alg);
    });
  }
});
