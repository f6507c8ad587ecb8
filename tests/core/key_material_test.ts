import assert from "node:assert/strict";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { defaultAlgFor, materialFromJwk, publicJwk } from "../../lib/core/key_material.ts";

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
    const small = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
    const smallJwk = await exportJWK(small.privateKey);
    await assert.rejects(materialFromJwk({ ...smallJwk, n: smallJwk.n!.slice(0, 170) }), /at least 2048 bits/);
  });
  await t.step("defaultAlgFor() picks the algorithm from the key type", () => {
    assert.equal(defaultAlgFor({ kty: "RSA" }), "RS256");
    assert.equal(defaultAlgFor({ kty: "RSA", alg: "PS256" }), "PS256");
    assert.equal(defaultAlgFor({ kty: "EC", crv: "P-256" }), "ES256");
    assert.equal(defaultAlgFor({ kty: "OKP", crv: "Ed25519" }), "EdDSA");
    assert.throws(() => defaultAlgFor({ kty: "EC", crv: "P-384" }), /Unsupported key type "EC" \(P-384\)/);
  });
});
