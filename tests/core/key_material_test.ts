import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { ALGS, isAlg } from "../../lib/core/key_material.ts";
import {
  defaultAlgFor,
  generateKeyMaterial,
  importSigningKey,
  materialFromJwk,
  publicJwk,
} from "../../lib/core/key_material.ts";

Deno.test("publicJwk() keeps only public members, from an allow-list", async () => {
  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...await exportJWK(privateKey), extra: "x", key_ops: ["sign"] };
    const pub = publicJwk(jwk, "kid", alg);
    for (const member of ["d", "p", "q", "dp", "dq", "qi", "extra", "key_ops", "oth", "k"]) {
      assert.ok(!(member in pub), `${alg} JWKS entry has no "${member}"`);
    }
    assert.equal(pub.use, "sig");
    assert.equal(pub.alg, alg);
    assert.equal(pub.kid, "kid");
    // The allow-list keeps exactly the public members of the key type, with their values.
    const members = { RS256: ["e", "n"], ES256: ["crv", "x", "y"], EdDSA: ["crv", "x"] }[alg];
    assert.deepEqual(Object.keys(pub).sort(), ["alg", "kid", "kty", "use", ...members].sort());
    for (const member of members) assert.equal(pub[member], (jwk as Record<string, unknown>)[member], member);
    assert.equal(pub.kty, jwk.kty);
    assert.ok(Object.isFrozen(pub));
  }
  assert.throws(() => publicJwk({ kty: "oct", k: "secret" }, "k", "RS256"), /Unsupported key type "oct"/);
  assert.throws(() => publicJwk({ kty: "RSA", e: "AQAB" }, "k", "RS256"), /lacks its "n" member/);
});

Deno.test("materialFromJwk() makes RFC 7638 thumbprint kids and checks the key", async (t) => {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  await t.step("the kid is the SHA-256 thumbprint of the public key, stable across calls", async () => {
    const a = await materialFromJwk(jwk);
    const b = await materialFromJwk({ ...jwk, kid: "ignored" });
    assert.equal(a.kid, await calculateJwkThumbprint({ kty: "EC", crv: jwk.crv!, x: jwk.x!, y: jwk.y! }));
    assert.equal(a.kid, b.kid);
    assert.equal(a.alg, "ES256");
    assert.ok(new TextDecoder().decode(a.privateBytes).includes('"d"'));
  });
  await t.step("a public key, a small RSA key or a key that does not fit the algorithm is refused", async () => {
    const { d: _d, ...pub } = jwk;
    await assert.rejects(materialFromJwk(pub), /no private part/);
    await assert.rejects(materialFromJwk(jwk, "RS256"), /cannot sign RS256/);
    const p384 = await exportJWK((await generateKeyPair("ES384", { extractable: true })).privateKey);
    await assert.rejects(materialFromJwk(p384, "ES256"), /A key of type "EC" \(P-384\) cannot sign ES256/);
    const small = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
    const smallJwk = await exportJWK(small.privateKey);
    await assert.rejects(materialFromJwk({ ...smallJwk, n: smallJwk.n!.slice(0, 170) }), /must have 2048 to 4096 bits/);
  });
  await t.step("defaultAlgFor() picks the algorithm from the key type", () => {
    assert.equal(defaultAlgFor({ kty: "RSA" }), "RS256");
    assert.equal(defaultAlgFor({ kty: "RSA", alg: "PS256" }), "PS256");
    assert.equal(defaultAlgFor({ kty: "EC", crv: "P-256" }), "ES256");
    assert.equal(defaultAlgFor({ kty: "OKP", crv: "Ed25519" }), "EdDSA");
    assert.throws(() => defaultAlgFor({ kty: "EC", crv: "P-384" }), /Unsupported key type "EC" \(P-384\)/);
  });
});

Deno.test("isAlg() knows exactly the four signing algorithms, RS256 first", () => {
  assert.deepEqual([...ALGS], ["RS256", "PS256", "ES256", "EdDSA"]);
  for (const alg of ALGS) assert.equal(isAlg(alg), true);
  for (const value of ["HS256", "none", "rs256", "", null, 256]) assert.equal(isAlg(value), false, String(value));
});

Deno.test("generateKeyMaterial() makes a key of each algorithm that signs and verifies under its kid", async (t) => {
  for (const alg of ALGS) {
    await t.step(alg, async () => {
      const material = await generateKeyMaterial(alg);
      assert.equal(material.alg, alg);
      assert.equal(material.publicJwk.alg, alg);
      assert.equal(material.publicJwk.kid, material.kid);
      assert.equal(material.kid, await calculateJwkThumbprint(material.publicJwk));
      const privateJwk = JSON.parse(new TextDecoder().decode(material.privateBytes));
      assert.equal(typeof privateJwk.d, "string");
      if (alg === "RS256" || alg === "PS256") assert.equal(Buffer.from(privateJwk.n, "base64url").length, 256);
      const key = await importSigningKey(privateJwk, alg);
      assert.equal(key.type, "private");
      assert.equal(key.extractable, false, "signing keys never leave WebCrypto");
    });
  }
});

Deno.test("importSigningKey() refuses a public key", async () => {
  const { publicKey } = await generateKeyPair("ES256", { extractable: true });
  await assert.rejects(importSigningKey(await exportJWK(publicKey), "ES256"), /no private part/);
});
