import assert from "node:assert/strict";
import type { JWK } from "jose";
import type { KeyRecord } from "../../lib/core/key_lifecycle.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { KeyRing } from "../../lib/core/key_ring.ts";
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
  const imported: JWK[] = [];
  const closed: string[] = [];
  const open = new Set<string>();
  let serial = 0;
  const importSigner = async (jwk: JWK, alg: Alg): Promise<Signer> => {
    imported.push(jwk);
    const inner = await importWebCryptoSigner(jwk, alg);
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
