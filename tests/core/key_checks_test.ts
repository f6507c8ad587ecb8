import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { AppError } from "../../lib/core/errors.ts";
import { checkPrivateJwk, selfTest } from "../../lib/core/key_checks.ts";
import { materialFromJwk } from "../../lib/core/key_material.ts";

async function privateJwk(alg: "RS256" | "ES256" | "EdDSA"): Promise<JWK> {
  return await exportJWK((await generateKeyPair(alg, { extractable: true })).privateKey);
}

const refused = (message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof AppError, String(error));
  assert.equal(error.code, "invalid_key");
  assert.match(error.message, message);
  return true;
};

const b64 = (bytes: Uint8Array) => bytes.toBase64({ alphabet: "base64url", omitPadding: true });

Deno.test("RSA keys: 2048 to 4096 bits, a NIST exponent, and the private half of the same key", async (t) => {
  const a = await privateJwk("RS256");
  const b = await privateJwk("RS256");
  await t.step("a public exponent of 2 or 3 is refused", async () => {
    for (const e of ["Ag", "Aw"]) {
      await assert.rejects(materialFromJwk({ ...a, e }), refused(/public exponent must be odd, above 65536/), e);
    }
  });
  await t.step("n and e of one key with d, p, q of another is refused", async () => {
    await assert.rejects(materialFromJwk({ ...b, n: a.n!, e: a.e! }), refused(/does not belong to its public key/));
  });
  await t.step("the right p and q with the private exponents of another key fails the self-test", async () => {
    // Another key whose d is below a's n, so the range check passes and the self-test decides.
    const big = (value: string) => BigInt(`0x${Uint8Array.fromBase64(value, { alphabet: "base64url" }).toHex()}`);
    let other = b;
    for (let tries = 0; tries < 20 && big(other.d!) >= big(a.n!); tries++) other = await privateJwk("RS256");
    const { d, dp, dq, qi } = other;
    await assert.rejects(
      materialFromJwk({ ...a, d: d!, dp: dp!, dq: dq!, qi: qi! }),
      refused(/does not match its public key|does not import|cannot sign/),
    );
  });
  await t.step("a private exponent d of 1 or not below n is out of range", async () => {
    for (const d of ["AQ", a.n!]) {
      await assert.rejects(materialFromJwk({ ...a, d }), refused(/private exponent "d" is out of range/));
    }
  });
  await t.step("an 8192-bit modulus is refused before any import", () => {
    const n = new Uint8Array(1024).fill(0xc5);
    assert.throws(() => checkPrivateJwk({ ...a, n: b64(n) }), refused(/2048 to 4096 bits, this one has 8192/));
  });
  await t.step("multi-prime members (oth) and other foreign members are refused, never a 500", async () => {
    await assert.rejects(
      materialFromJwk({ ...a, oth: [{ r: "AQAB", d: "AQAB", t: "AQAB" }] } as JWK),
      refused(/may not carry "oth"/),
    );
    await assert.rejects(materialFromJwk({ ...a, x5c: ["MIIB"] } as JWK), refused(/may not carry "x5c"/));
  });
  await t.step("members that are not base64url, a wrong use or key_ops are refused", () => {
    assert.throws(() => checkPrivateJwk({ ...a, n: "not base64!" }), refused(/"n" member is not base64url/));
    assert.throws(() => checkPrivateJwk((({ p: _p, ...rest }) => rest)(a)), refused(/lacks its "p" member/));
    assert.throws(() => checkPrivateJwk({ ...a, use: "enc" }), refused(/"use" must be "sig"/));
    assert.throws(() => checkPrivateJwk({ ...a, key_ops: ["verify"] }), refused(/"key_ops" must include "sign"/));
  });
  await t.step("a sound key passes", async () => {
    checkPrivateJwk(a);
    assert.equal((await materialFromJwk(a)).alg, "RS256");
  });
});

Deno.test("EC keys: the point on P-256, and the private scalar of that point", async (t) => {
  const a = await privateJwk("ES256");
  const b = await privateJwk("ES256");
  await t.step("a point off the curve is refused", () => {
    const y = Uint8Array.fromBase64(a.y!, { alphabet: "base64url" });
    y[31]! ^= 1;
    assert.throws(() => checkPrivateJwk({ ...a, y: b64(y) }), refused(/not on the P-256 curve/));
  });
  await t.step("another key's point with this key's scalar fails the self-test", async () => {
    await assert.rejects(
      materialFromJwk({ ...a, x: b.x!, y: b.y! }),
      refused(/does not match its public key|does not import/),
    );
  });
  await t.step("another curve, or members of the wrong size, are refused", () => {
    assert.throws(() => checkPrivateJwk({ ...a, crv: "P-384" }), refused(/Unsupported curve "P-384"/));
    assert.throws(() => checkPrivateJwk({ ...a, d: "AQAB" }), refused(/must be 32 bytes each/));
  });
});

Deno.test("Ed25519 keys: the public key of the private seed", async () => {
  const a = await privateJwk("EdDSA");
  const b = await privateJwk("EdDSA");
  await assert.rejects(materialFromJwk({ ...a, x: b.x! }), refused(/does not match its public key|does not import/));
  assert.equal((await materialFromJwk(a)).alg, "EdDSA");
});

Deno.test("checkPrivateJwk() refuses public keys and key types we do not sign with", () => {
  assert.throws(() => checkPrivateJwk({ kty: "oct", k: "c2VjcmV0" }), refused(/Unsupported key type "oct"/));
  assert.throws(() => checkPrivateJwk({ kty: "EC", crv: "P-256", x: "AA", y: "AA" }), refused(/no private part/));
});

Deno.test("selfTest() fails a signer that throws or signs with another key", async () => {
  const material = await materialFromJwk(await privateJwk("ES256"));
  await assert.rejects(
    selfTest(() => Promise.reject(new Error("token expired in HSM")), material.publicJwk, "ES256"),
    refused(/^The key cannot sign: token expired in HSM$/),
  );
  await assert.rejects(
    selfTest(() => Promise.resolve(new Uint8Array(64)), material.publicJwk, "ES256"),
    refused(/test signature did not verify/),
  );
  await assert.rejects(
    selfTest(() => Promise.resolve(new Uint8Array(1)), material.publicJwk, "HS256"),
    refused(/Unsupported algorithm/),
  );
});
