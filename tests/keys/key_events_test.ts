import assert from "node:assert/strict";
import type { KeyRecord } from "../../lib/core/key_lifecycle.ts";
import { changesBetween, madeBy } from "../../lib/keys/key_events.ts";

const key = (id: number, extra: Partial<KeyRecord> = {}): KeyRecord => ({
  id,
  blob: new Uint8Array(),
  exp: 900,
  kid: `kid-${id}`,
  alg: "ES256",
  publicJwk: { kty: "EC", kid: `kid-${id}`, use: "sig", alg: "ES256", crv: "P-256", x: "x", y: "y" },
  createdAt: 0,
  activatesAt: 100,
  retiresAt: 600,
  revokedAt: null,
  ...extra,
});

Deno.test("changesBetween() names what was created, revoked, rescheduled and purged", () => {
  const before = [key(1), key(2), key(3, { exp: 50 }), key(4)];
  const after = [key(1, { retiresAt: 500, exp: 800 }), key(2, { revokedAt: 300, exp: 300 }), key(5)];
  assert.deepEqual(changesBetween(before, after, 300), [
    { event: "key_created", kid: "kid-5", alg: "ES256", activatesAt: 100, exp: 900 },
    { event: "key_rescheduled", kid: "kid-1", activatesAt: 100, retiresAt: 500, exp: 800 },
    { event: "key_revoked", kid: "kid-2", revokedAt: 300 },
    { event: "key_purged", kid: "kid-3", exp: 50 },
    { event: "key_revoked", kid: "kid-4", revokedAt: 300 },
    { event: "key_purged", kid: "kid-4", exp: 300 },
  ]);
  assert.deepEqual(changesBetween(before, before, 300), [], "the same keys: no events");
});

Deno.test("madeBy() marks another process's changes, and leaves this process's own observations alone", () => {
  const source = { by: "keys rotate (pid 7)", reason: "rotate" };
  assert.deepEqual(
    madeBy([
      { event: "key_purged", kid: "a", exp: 1 },
      { event: "key_activated", kid: "b", alg: "ES256", activatedAt: 1, retiresAt: 2 },
    ], source),
    [
      { event: "key_purged", kid: "a", exp: 1, ...source },
      { event: "key_activated", kid: "b", alg: "ES256", activatedAt: 1, retiresAt: 2 },
    ],
  );
});
