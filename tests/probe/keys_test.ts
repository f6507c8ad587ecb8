/**
 * The server's keys as the probe sees them: from stored records (active with its private JWK,
 * newest expired, newest revoked, the published set) and from the live key view (no revoked
 * key, no private JWK), and a clear error when no key signs.
 * @module
 */
import assert from "node:assert/strict";
import { createSealer } from "../../lib/core/seal.ts";
import { hasCode } from "../../lib/core/errors.ts";
import { probeKeysFromRecords, probeKeysFromView } from "../../lib/probe/keys.ts";
import { testApp } from "../support/helpers.ts";

const sealer = createSealer("test master secret, not for production");

Deno.test("probeKeysFromRecords() unseals the active, expired and revoked keys", async () => {
  const app = await testApp({ alg: "RS256" });
  try {
    const view = app.keys.view();
    await app.keys.apply({ kind: "revoke", kid: view.next!.kid });
    const keys = await probeKeysFromRecords(await app.store.listKeys(), sealer, app.keys.now());
    assert.equal(keys.active.kid, view.active!.kid);
    const switched = keys.active.switched!;
    assert.equal(switched.algorithm.name, "RSA-PSS", "the same key, imported for the other RSA algorithm");
    assert.equal(switched.extractable, false);
    const key = keys.active.key;
    assert.ok(key instanceof CryptoKey, "unsealed by the probe into a WebCrypto key");
    assert.equal(key.type, "private");
    assert.equal(key.extractable, false);
    assert.equal(keys.expired?.kid, view.expired!.kid);
    assert.equal(keys.revoked?.kid, view.next!.kid);
    assert.deepEqual(keys.published.map((key) => key.kid), app.keys.view().jwks.keys.map((key) => key.kid));
  } finally {
    await app.close();
  }
});

Deno.test("probeKeysFromView() has the active and expired keys but no revoked key or switched key", async () => {
  const app = await testApp({ alg: "ES256" });
  try {
    const keys = probeKeysFromView(app.keys.view());
    assert.equal(keys.active.alg, "ES256");
    assert.equal(keys.active.publicJwk.kid, keys.active.kid);
    assert.equal(keys.active.switched, undefined);
    assert.notEqual(keys.expired, null);
    assert.equal(keys.revoked, null);
  } finally {
    await app.close();
  }
});

Deno.test("no key that signs now is a no_signing_key error", async () => {
  const app = await testApp({ alg: "RS256" });
  try {
    const records = await app.store.listKeys();
    await assert.rejects(
      probeKeysFromRecords(records, sealer, 0),
      (error) => hasCode(error, "no_signing_key") && /start the server/.test(error.message),
    );
    const view = app.keys.view();
    assert.throws(() => probeKeysFromView({ ...view, active: null }), (error) => hasCode(error, "no_signing_key"));
  } finally {
    await app.close();
  }
});
