/**
 * The byte-level JWS helpers: base64url, hand-assembled tokens that WebCrypto signs for any
 * header, HMAC with an empty secret, signature tampering, and public-key encodings that match
 * what node:crypto (OpenSSL) writes.
 * @module
 */
import assert from "node:assert/strict";
import { createHmac, createPublicKey } from "node:crypto";
import { compactVerify, importJWK } from "jose";
import {
  alterSignature,
  b64url,
  decodeParts,
  forge,
  fromB64url,
  hmac,
  publicKeyDer,
  publicKeyPem,
  utf8,
  withSignature,
} from "../../lib/probe/jws.ts";
import { importSigningKey } from "../../lib/core/key_material.ts";
import { freshKey } from "../support/helpers.ts";

Deno.test("base64url round-trips bytes and text without padding", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(60_000));
  assert.deepEqual(fromB64url(b64url(bytes)), bytes);
  assert.equal(b64url("\u00ff\u00fe?"), "w7_Dvj8");
  assert.ok(!b64url(new Uint8Array([1])).includes("="));
});

Deno.test("forge() keeps raw header and payload text and signs it with the key's algorithm", async (t) => {
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"] as const) {
    await t.step(alg, async () => {
      const material = await freshKey(alg);
      const key = await importSigningKey(JSON.parse(new TextDecoder().decode(material.privateBytes)), alg);
      const token = await forge({ alg, kid: material.kid }, '{"a":1,"a":2}', { key });
      const verified = await compactVerify(token, await importJWK(material.publicJwk, alg));
      assert.equal(new TextDecoder().decode(verified.payload), '{"a":1,"a":2}');
    });
  }
  await t.step("null leaves the signature empty; bytes are used as given", async () => {
    assert.ok((await forge({ alg: "none" }, {}, null)).endsWith("."));
    const token = await forge({ alg: "ES256" }, {}, { bytes: new Uint8Array(64) });
    assert.deepEqual(fromB64url(token.split(".")[2]!), new Uint8Array(64));
  });
});

Deno.test("hmac() matches node:crypto, also with an empty secret", async () => {
  const input = utf8("header.payload");
  for (const alg of ["HS256", "HS384", "HS512"] as const) {
    for (const secret of ["", "probe-secret"]) {
      const expected = createHmac(`sha${alg.slice(2)}`, secret).update("header.payload").digest();
      assert.deepEqual(await hmac(alg, utf8(secret), input), new Uint8Array(expected));
    }
  }
});

Deno.test("alterSignature() changes the signature bytes but not its length", () => {
  const token = `a.b.${b64url(new Uint8Array(256).fill(7))}`;
  const altered = alterSignature(token);
  assert.notEqual(altered, token);
  assert.equal(altered.length, token.length);
  assert.equal(fromB64url(altered.split(".")[2]!).filter((byte, i) => byte !== 7 || i < 0).length, 1);
  assert.equal(withSignature(token, ""), "a.b.");
});

Deno.test("decodeParts() reads header and payload", async () => {
  const token = await forge({ alg: "none", kid: "k" }, { sub: "x" }, null);
  assert.deepEqual(decodeParts(token), { header: { alg: "none", kid: "k" }, payload: { sub: "x" } });
});

Deno.test("public-key encodings are what OpenSSL writes for the same key", async () => {
  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    const { publicJwk } = await freshKey(alg);
    const node = createPublicKey({ key: { ...publicJwk }, format: "jwk" });
    assert.equal(publicKeyPem(publicJwk), node.export({ type: "spki", format: "pem" }));
    assert.deepEqual(publicKeyDer(publicJwk), new Uint8Array(node.export({ type: "spki", format: "der" })));
  }
});
