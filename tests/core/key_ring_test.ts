import assert from "node:assert/strict";
import type { KeyRecord } from "../../lib/core/key_lifecycle.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { KeyRing } from "../../lib/core/key_ring.ts";
import { type PrivateKeyParts, privateKeyParts } from "../../lib/core/private_key.ts";
import type { AppError } from "../../lib/core/errors.ts";
import { createSealer } from "../../lib/core/seal.ts";
import { importWebCryptoSigner } from "../../lib/core/signer.ts";
import type { Signer } from "../../lib/core/signer.ts";
import { freshKey } from "../support/helpers.ts";

const NOW = 1_800_000_000;
const sealer = createSealer("key ring test secret, long enough");

async function record(id: number, times: Partial<KeyRecord> = {}): Promise<KeyRecord> {
  const material = await freshKey("ES256");
  return {
    id,
    blob: sealer.seal(id, material.privateBytes),
    kid: material.kid,
    alg: "ES256",
    publicJwk: material.publicJwk,
    createdAt: NOW - 100,
    activatesAt: NOW - 50,
    retiresAt: NOW + 50,
    exp: NOW + 500,
    revokedAt: null,
    ...times,
  };
}

/** An importer that counts imports and closes, around real WebCrypto signers. */
function countingImporter() {
  const imported: PrivateKeyParts[] = [];
  const closed: string[] = [];
  const open = new Set<string>();
  let serial = 0;
  const importSigner = async (key: PrivateKeyParts, alg: Alg): Promise<Signer> => {
    imported.push(key);
    const inner = await importWebCryptoSigner(key, alg);
    const name = `signer-${++serial}`;
    open.add(name);
    return {
      alg,
      backend: "counting",
      sign: (data) => inner.sign(data),
      close: () => {
        closed.push(name);
        open.delete(name);
      },
    };
  };
  return { importSigner, imported, closed, open };
}

Deno.test("the key ring signs through the injected importer and imports each key once", async () => {
  const counting = countingImporter();
  const ring = new KeyRing(sealer, { importSigner: counting.importSigner });
  const active = await record(1);
  const next = await record(2, { activatesAt: NOW + 50, retiresAt: NOW + 150, exp: NOW + 600 });
  await ring.load([active, next], NOW);
  await ring.load([active, next], NOW + 1);
  assert.equal(counting.imported.length, 2, "reloading the same records imports nothing");
  for (const key of counting.imported) {
    assert.equal(key.pkcs8.byteLength, 138, "the importer was handed P-256 PKCS#8 DER");
    assert.ok(key.pkcs8.every((byte) => byte === 0), "the DER is zeroed once the key is imported");
    assert.deepEqual(Object.keys(key.publicJwk).sort(), ["crv", "kty", "x", "y"], "and only the public half as a JWK");
  }
  const view = ring.view(NOW);
  assert.equal(view.active?.signer.backend, "counting");
  const signature = await view.active!.signer.sign(new Uint8Array([1, 2, 3]));
  assert.equal(signature.byteLength, 64, "ES256 in JOSE form");
  ring.close();
  assert.equal(counting.open.size, 0);
});

Deno.test("a key that leaves the ring is closed; one still needed is kept", async (t) => {
  const counting = countingImporter();
  const ring = new KeyRing(sealer, { importSigner: counting.importSigner });
  const old = await record(1, { activatesAt: NOW - 900, retiresAt: NOW - 600, exp: NOW - 300 });
  const older = await record(2, { activatesAt: NOW - 1900, retiresAt: NOW - 1600, exp: NOW - 1300 });
  const active = await record(3);
  await ring.load([older, old, active], NOW);
  await t.step("only the newest expired key is imported among expired ones", () => {
    assert.equal(counting.imported.length, 2);
    assert.equal(ring.view(NOW).expired?.kid, old.kid);
  });
  await t.step("a purged key is released", async () => {
    await ring.load([active], NOW);
    assert.equal(counting.closed.length, 1);
    assert.equal(counting.open.size, 1);
    assert.equal(ring.view(NOW).active?.kid, active.kid);
  });
  await t.step("a key that expired while loaded is released once a newer one expires", async () => {
    const newer = await record(4, { activatesAt: NOW - 200, retiresAt: NOW - 100, exp: NOW - 10 });
    await ring.load([active, newer], NOW);
    assert.equal(ring.view(NOW).expired?.kid, newer.kid);
    await ring.load([active], NOW);
    assert.equal(counting.open.size, 1, "only the active key is held");
  });
  ring.close();
  assert.equal(counting.open.size, 0);
});

Deno.test("a failed load releases what it imported and leaves the ring as it was", async () => {
  const counting = countingImporter();
  const ring = new KeyRing(sealer, { importSigner: counting.importSigner });
  const active = await record(1);
  await ring.load([active], NOW);
  const good = await record(2, { activatesAt: NOW + 50, retiresAt: NOW + 150, exp: NOW + 600 });
  const broken = { ...(await record(3, { activatesAt: NOW + 150, retiresAt: NOW + 250, exp: NOW + 700 })), id: 99 };
  await assert.rejects(ring.load([active, good, broken], NOW));
  assert.equal(counting.open.size, 1, "the key imported by the failed load was closed");
  assert.equal(ring.view(NOW).active?.kid, active.kid);
  ring.close();
});

Deno.test("a stored public key that is not its sealed private key's own is never published or used", async (t) => {
  const attacker = await freshKey("ES256");
  const rejected: { kid: string; reason: string }[] = [];
  const ring = new KeyRing(sealer, { onRejected: (key) => rejected.push(key) });
  const active = await record(1);
  const next = await record(2, { activatesAt: NOW + 50, retiresAt: NOW + 150, exp: NOW + 600 });
  await t.step("the public JWK replaced by an attacker's, under the same kid", async () => {
    const tampered = { ...active, publicJwk: { ...attacker.publicJwk, kid: active.kid } };
    await ring.load([tampered, next], NOW);
    const view = ring.view(NOW);
    assert.deepEqual(view.jwks.keys.map((key) => key.kid), [next.kid], "only the sound key is published");
    assert.equal(view.active?.kid, next.kid, "the tampered key never signs: the next key does");
    assert.deepEqual(view.problems, [
      `key ${active.kid} is not published or used: its stored public key does not match its sealed private key`,
      `key ${next.kid} signs early in place of the unusable one`,
    ]);
    assert.deepEqual(rejected, [{
      kid: active.kid,
      reason: "its stored public key does not match its sealed private key",
    }]);
    await ring.load([tampered, next], NOW + 1);
    assert.equal(rejected.length, 1, "reported once, not at every reload");
  });
  await t.step("a kid that is not the thumbprint of the sealed key", async () => {
    const renamed = { ...active, kid: attacker.kid, publicJwk: { ...active.publicJwk, kid: attacker.kid } };
    await ring.load([renamed, next], NOW);
    assert.match(ring.view(NOW).problems[0]!, /its kid is not the thumbprint of its sealed private key/);
  });
  await t.step("the row put right again is published and signs", async () => {
    await ring.load([active, next], NOW);
    assert.equal(ring.view(NOW).active?.kid, active.kid);
    assert.deepEqual(ring.view(NOW).problems, []);
  });
  ring.close();
});

Deno.test("a key that cannot sign never becomes the signer; one that fails later hands over to the next key", async (t) => {
  const other = await freshKey("ES256");
  const active = await record(1);
  const next = await record(2, { activatesAt: NOW + 50, retiresAt: NOW + 150, exp: NOW + 600 });
  await t.step("a backend that signs with another key fails the self-test at load", async () => {
    const wrong = await importWebCryptoSigner(privateKeyParts(other.privateBytes), "ES256");
    const ring = new KeyRing(sealer, {
      importSigner: async (key, alg) =>
        key.publicJwk.x === active.publicJwk.x ? wrong : await importWebCryptoSigner(key, alg),
    });
    await ring.load([active, next], NOW);
    assert.equal(ring.view(NOW).active?.kid, next.kid);
    assert.match(
      ring.view(NOW).problems[0]!,
      new RegExp(`^key ${active.kid} is not published or used: it failed the self-test`),
    );
    ring.close();
  });
  await t.step("the signing key starts failing: that request is 503, the next key signs from then on", async () => {
    let broken = false;
    const failures: string[] = [];
    const ring = new KeyRing(sealer, {
      importSigner: async (key, alg) => {
        const inner = await importWebCryptoSigner(key, alg);
        const mine = key.publicJwk.x === active.publicJwk.x;
        return {
          ...inner,
          sign: (data) => mine && broken ? Promise.reject(new Error("HSM session lost")) : inner.sign(data),
        };
      },
      onSignerFailed: (key) => failures.push(`${key.kid}: ${key.reason}`),
    });
    await ring.load([active, next], NOW);
    const before = ring.view(NOW);
    assert.equal(before.active?.kid, active.kid);
    broken = true;
    await assert.rejects(
      before.active!.signer.sign(new Uint8Array([1])),
      (error: AppError) => error.code === "unavailable",
    );
    const after = ring.view(NOW);
    assert.equal(after.active?.kid, next.kid, "the published next key signs early");
    assert.ok((await after.active!.signer.sign(new Uint8Array([1]))).byteLength > 0);
    assert.deepEqual(after.problems, [
      `key ${active.kid} failed to sign: HSM session lost`,
      `key ${next.kid} signs early in place of the unusable one`,
    ]);
    assert.deepEqual(failures, [`${active.kid}: HSM session lost`]);
    assert.deepEqual(after.jwks.keys.map((key) => key.kid), [active.kid, next.kid], "both stay published");
    ring.close();
  });
});
