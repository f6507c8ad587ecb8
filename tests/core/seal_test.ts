import assert from "node:assert/strict";
import { SealError } from "../../lib/core/errors.ts";
import { createSealer, randomSecret, rotatingSealer, SEAL_VERSION, secretCheck } from "../../lib/core/seal.ts";

const plaintext = new TextEncoder().encode('{"kty":"RSA","d":"private"}');

Deno.test("seal() and open() round-trip a private key for its kid", () => {
  const sealer = createSealer("correct horse battery staple");
  const blob = sealer.seal(7, plaintext);
  assert.deepEqual(sealer.open(7, blob), plaintext);
});

Deno.test("a sealed blob keeps version and nonce inside and never contains the plaintext", () => {
  const sealer = createSealer("correct horse battery staple");
  const a = sealer.seal(1, plaintext);
  const b = sealer.seal(1, plaintext);
  assert.equal(a[0], SEAL_VERSION);
  assert.equal(a.byteLength, 1 + 12 + plaintext.byteLength + 16);
  // A fresh 96-bit nonce per blob: the same plaintext seals differently every time.
  assert.notDeepEqual(a.subarray(1, 13), b.subarray(1, 13));
  assert.ok(!new TextDecoder().decode(a).includes("private"));
});

Deno.test("open() detects tampering", async (t) => {
  const sealer = createSealer("correct horse battery staple");
  const blob = sealer.seal(3, plaintext);

  await t.step("a flipped bit in any byte of the blob, the version byte included", () => {
    for (let i = 0; i < blob.byteLength; i++) {
      const bad = blob.slice();
      bad[i]! ^= 0x01;
      assert.throws(() => sealer.open(3, bad), SealError);
    }
  });
  await t.step("a blob moved to another row (wrong kid)", () => {
    assert.throws(() => sealer.open(4, blob), SealError);
  });
  await t.step("the wrong master secret", () => {
    assert.throws(() => createSealer("another secret entirely").open(3, blob), SealError);
  });
  await t.step("an unknown format version", () => {
    const bad = blob.slice();
    bad[0] = 99;
    assert.throws(() => sealer.open(3, bad), /unknown format version 99/);
  });
  await t.step("a truncated blob", () => {
    assert.throws(() => sealer.open(3, blob.subarray(0, 20)), /truncated/);
  });
});

Deno.test("the error for a blob that does not open names the kid but not the secret", () => {
  const secret = "my-very-secret-master-key";
  const blob = createSealer(secret).seal(9, plaintext);
  assert.throws(() => createSealer("not-the-right-secret!").open(9, blob), (error: SealError) => {
    assert.equal(error.code, "wrong_secret");
    assert.match(error.message, /"9"/);
    assert.ok(!error.message.includes(secret));
    return true;
  });
});

Deno.test("an empty master secret is refused", () => {
  assert.throws(() => createSealer(""), SealError);
});

Deno.test("secretCheck() accepts its own secret and refuses another", () => {
  const check = secretCheck(createSealer("first secret value"));
  const blob = check.make();
  check.verify(blob, "the db");
  assert.throws(
    () => secretCheck(createSealer("second secret value")).verify(blob, '"x.db"'),
    /NOT_MY_KEY does not match the secret "x.db" was created with/,
  );
});

Deno.test("randomSecret() makes distinct 256-bit base64url secrets", () => {
  const a = randomSecret();
  assert.equal(a.length, 43);
  assert.match(a, /^[A-Za-z0-9_-]+$/);
  assert.notEqual(a, randomSecret());
});

Deno.test("rotatingSealer() seals with the new secret and opens what either secret sealed", async (t) => {
  const old = createSealer("the old master secret, 32 bytes!");
  const next = createSealer("the new master secret, 32 bytes!");
  const sealer = rotatingSealer(next, old);
  await t.step("a blob of the new secret opens and needs nothing", () => {
    assert.deepEqual(sealer.open(1, next.seal(1, plaintext)), plaintext);
    assert.equal(sealer.stale, false);
    assert.equal(sealer.reseal(1, next.seal(1, plaintext)), null);
  });
  await t.step("a blob of the old secret opens, is marked stale, and reseals to the new one", () => {
    const blob = old.seal(2, plaintext);
    assert.deepEqual(sealer.open(2, blob), plaintext);
    assert.equal(sealer.stale, true);
    const resealed = sealer.reseal(2, blob)!;
    assert.deepEqual(next.open(2, resealed), plaintext, "now the new secret alone opens it");
    assert.throws(() => old.open(2, resealed), SealError);
    sealer.settle();
    assert.equal(sealer.stale, false);
  });
  await t.step("a blob of a third secret, or of another row, opens with neither", () => {
    assert.throws(() => sealer.open(3, createSealer("a third secret").seal(3, plaintext)), SealError);
    assert.throws(() => sealer.reseal(4, old.seal(3, plaintext)), SealError);
  });
  await t.step("the canary check accepts either secret; without a previous one only the current", () => {
    secretCheck(sealer).verify(secretCheck(old).make(), '"db"');
    assert.throws(() => secretCheck(rotatingSealer(next, null)).verify(secretCheck(old).make(), '"db"'), SealError);
  });
});
