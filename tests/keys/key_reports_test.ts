import assert from "node:assert/strict";
import { type KeyRecord } from "../../lib/core/key_lifecycle.ts";
import { describeChange, isoSeconds, keyInfo } from "../../lib/keys/key_reports.ts";

const record: KeyRecord = {
  id: 7,
  blob: new Uint8Array(),
  exp: 3000,
  kid: "kid-1",
  alg: "ES256",
  publicJwk: { kty: "EC", kid: "kid-1", use: "sig", alg: "ES256", crv: "P-256", x: "x", y: "y" },
  createdAt: 1000,
  activatesAt: 1500,
  retiresAt: 2000,
  revokedAt: null,
};

Deno.test("keyInfo tells a key's status at an instant, revoked apart from expired", () => {
  const at = (now: number, extra: Partial<KeyRecord> = {}) => keyInfo({ ...record, ...extra }, now);
  assert.equal(at(1200).status, "next");
  assert.equal(at(1500).status, "active");
  assert.equal(at(2500).status, "retired");
  assert.equal(at(2500).published, true);
  assert.equal(at(3000).status, "expired");
  assert.equal(at(3000).published, false);
  const revoked = at(1200, { revokedAt: 1100 });
  assert.equal(revoked.status, "revoked");
  assert.equal(revoked.revokedAt, "1970-01-01T00:18:20Z");
  assert.equal(at(1200).row, 7);
  assert.equal(isoSeconds(0), "1970-01-01T00:00:00Z");
});

Deno.test("keyInfo says honestly when a key never signed: revoked before its turn, or made for ?expired", () => {
  // Revoking a waiting key moves its schedule to the instant of the revocation.
  const waiting = keyInfo({ ...record, activatesAt: 1100, retiresAt: 1100, exp: 1100, revokedAt: 1100 }, 1200);
  assert.equal(waiting.status, "revoked");
  assert.equal(waiting.activatesAt, null, "it never signed");
  assert.equal(waiting.retiresAt, null);
  const signed = keyInfo({ ...record, retiresAt: 1800, exp: 1800, revokedAt: 1800 }, 1900);
  assert.equal(signed.activatesAt, "1970-01-01T00:25:00Z", "a revoked key that signed says when");
  assert.equal(signed.retiresAt, "1970-01-01T00:30:00Z");
  const spare = keyInfo({ ...record, createdAt: 999, activatesAt: 999, retiresAt: 999, exp: 999 }, 1200);
  assert.equal(spare.status, "expired");
  assert.equal(spare.activatesAt, null, "born expired: it signs ?expired=true tokens only");
});

Deno.test("describeChange says each lifecycle change in one line", () => {
  assert.equal(describeChange({ event: "key_purged", kid: "a", exp: 60 }), "Purged a");
  assert.equal(
    describeChange({ event: "key_activated", kid: "a", alg: "EdDSA", activatedAt: 60, retiresAt: 90 }),
    "Activated a",
  );
  assert.equal(describeChange({ event: "key_retired", kid: "a", retiredAt: 60, exp: 90 }), "Retired a");
  assert.equal(describeChange({ event: "key_revoked", kid: "a", revokedAt: 60 }), "Revoked a: removed from the JWKS");
  assert.equal(
    describeChange({ event: "key_created", kid: "a", alg: "EdDSA", activatesAt: 60, exp: 120 }),
    "Published a (EdDSA): signs from 1970-01-01T00:01:00Z, leaves the JWKS at 1970-01-01T00:02:00Z",
  );
  assert.equal(
    describeChange({ event: "key_rescheduled", kid: "a", activatesAt: 60, retiresAt: 90, exp: 120 }),
    "Rescheduled a: signs 1970-01-01T00:01:00Z to 1970-01-01T00:01:30Z, leaves the JWKS at 1970-01-01T00:02:00Z",
  );
  const changes = [{ setting: "rotationInterval" as const, from: 86_400, to: 120 }];
  assert.equal(
    describeChange({ event: "key_policy_changed", summary: "rotation interval 1d → 2m", changes }),
    "Key policy changed: rotation interval 1d → 2m; the keys were re-planned",
  );
  assert.match(describeChange({ event: "keys_resealed", count: 3 }), /^Re-sealed 3 /);
});
