import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { boundPublicKey, canonicalJwk, sameRecord, watchedSigner } from "../../lib/core/key_binding.ts";
import type { KeyRecord } from "../../lib/core/key_lifecycle.ts";
import type { KeyMaterial } from "../../lib/core/key_material.ts";
import type { Signer } from "../../lib/core/signer.ts";
import { freshKey } from "../support/helpers.ts";

function recordOf(material: KeyMaterial, overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: 1,
    blob: new Uint8Array([1]),
    exp: 2000,
    kid: material.kid,
    alg: material.alg,
    publicJwk: material.publicJwk,
    createdAt: 0,
    activatesAt: 0,
    retiresAt: 1000,
    revokedAt: null,
    ...overrides,
  };
}
const privateOf = (material: KeyMaterial) => JSON.parse(new TextDecoder().decode(material.privateBytes));

Deno.test("canonicalJwk() compares JWKs whatever the order of their members", () => {
  assert.equal(canonicalJwk({ b: 1, a: "x" }), canonicalJwk({ a: "x", b: 1 }));
  assert.notEqual(canonicalJwk({ a: "x" }), canonicalJwk({ a: "y" }));
});

Deno.test("sameRecord(): the same kid and public key, even when the sealed blob was rewritten", async () => {
  const [a, b] = [await freshKey("ES256"), await freshKey("ES256")];
  assert.equal(sameRecord(recordOf(a), recordOf(a, { blob: new Uint8Array([9, 9]) })), true);
  assert.equal(sameRecord(recordOf(a), recordOf(a, { kid: b.kid })), false);
  assert.equal(sameRecord(recordOf(a), recordOf(a, { publicJwk: b.publicJwk })), false);
});

Deno.test("boundPublicKey() uses a row only when its kid and public JWK come from its sealed key", async (t) => {
  const [a, b] = [await freshKey("ES256"), await freshKey("ES256")];
  await t.step("a consistent row gives the derived public JWK", async () => {
    const derived = await boundPublicKey(privateOf(a), recordOf(a));
    assert.equal(typeof derived, "object");
    assert.equal(canonicalJwk(derived as Record<string, unknown>), canonicalJwk(a.publicJwk));
  });
  await t.step("a kid that is not the private key's thumbprint", async () => {
    assert.equal(
      await boundPublicKey(privateOf(a), recordOf(b)),
      "its kid is not the thumbprint of its sealed private key",
    );
  });
  await t.step("a stored public key swapped for another, with the right kid", async () => {
    assert.equal(
      await boundPublicKey(privateOf(a), recordOf(a, { publicJwk: b.publicJwk })),
      "its stored public key does not match its sealed private key",
    );
  });
  await t.step("a private key that is not a usable key", async () => {
    assert.equal(
      await boundPublicKey({ kty: "oct", k: "AAAA" }, recordOf(a)),
      "its sealed private key is not a usable key",
    );
  });
});

Deno.test("watchedSigner() takes a failing key out of service with a 503, but passes refused inputs through", async (t) => {
  const reasons: string[] = [];
  let fail: Error | null = null;
  let closed = 0;
  const inner: Signer = {
    alg: "ES256",
    backend: "test",
    sign: (data) => fail ? Promise.reject(fail) : Promise.resolve(data.slice(0, 1)),
    close: () => void closed++,
  };
  const watched = watchedSigner(inner, (reason) => reasons.push(reason));
  await t.step("a working key signs as the signer does", async () => {
    assert.deepEqual(await watched.sign(new Uint8Array([7, 8])), new Uint8Array([7]));
    assert.equal(watched.alg, "ES256");
    assert.equal(watched.backend, "test");
    assert.deepEqual(reasons, []);
  });
  await t.step("a key failure is told with a short reason and answered as unavailable, retry after 1 s", async () => {
    fail = new Error("x".repeat(500));
    await assert.rejects(
      watched.sign(new Uint8Array(1)),
      (error: AppError) => error.code === "unavailable" && error.retryAfter === 1 && error.cause === fail,
    );
    assert.equal(reasons.length, 1);
    assert.equal(reasons[0]!.length, 120);
  });
  await t.step("an input refused as too large is the caller's problem, not the key's", async () => {
    fail = new AppError("payload_too_large", "too big");
    await assert.rejects(watched.sign(new Uint8Array(1)), (error: AppError) => error.code === "payload_too_large");
    assert.equal(reasons.length, 1);
  });
  await t.step("close reaches the signer; a signer without close gets none", () => {
    watched.close!();
    assert.equal(closed, 1);
    assert.equal(watchedSigner({ ...inner, close: undefined } as unknown as Signer, () => {}).close, undefined);
  });
});
