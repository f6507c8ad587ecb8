import assert from "node:assert/strict";
import type { KeyRecord } from "../../lib/core/key_lifecycle.ts";
import { etagMatches, keySchedule } from "../../lib/console/schedule.ts";

const T = 1_800_000_000;

/** A stored key with the given schedule (no real key material: the schedule is all that is read). */
function record(id: number, kid: string, times: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    blob: new Uint8Array([1, 2, 3]),
    kid,
    alg: "ES256",
    publicJwk: { kty: "EC", kid, use: "sig", alg: "ES256", crv: "P-256", x: "x", y: "y" },
    createdAt: T - 100,
    activatesAt: T,
    retiresAt: T + 1000,
    exp: T + 1300,
    revokedAt: null,
    ...times,
  };
}

const retired = record(1, "old", { createdAt: T - 2000, activatesAt: T - 1900, retiresAt: T - 100, exp: T + 200 });
const active = record(2, "cur", { createdAt: T - 2000, activatesAt: T - 100, retiresAt: T + 900, exp: T + 1200 });
const next = record(3, "new", { createdAt: T - 50, activatesAt: T + 900, retiresAt: T + 1900, exp: T + 2200 });
const expired = record(4, "gone", { createdAt: T - 9000, activatesAt: T - 9000, retiresAt: T - 5000, exp: T - 4000 });
const published = [{ kid: "old" }, { kid: "cur" }, { kid: "new" }];

Deno.test("keySchedule lists the published keys in signing order with their state and times", () => {
  const schedule = keySchedule(published, [next, expired, active, retired], T);
  assert.deepEqual(schedule.keys.map((key) => [key.kid, key.state]), [
    ["old", "retired"],
    ["cur", "active"],
    ["new", "next"],
  ]);
  assert.deepEqual(schedule.keys[2], {
    kid: "new",
    alg: "ES256",
    state: "next",
    publishedAt: T - 50,
    activatesAt: T + 900,
    retiresAt: T + 1900,
    exp: T + 2200,
  });
  assert.deepEqual(JSON.parse(schedule.keysJson), schedule.keys);
  assert.match(schedule.etag, /^W\/"[A-Za-z0-9_-]{22}"$/);
});

Deno.test("keySchedule shows what the JWKS publishes: no kid the view lacks, no expired record", async (t) => {
  await t.step("a stored key the view does not publish yet is left out", () => {
    const schedule = keySchedule([{ kid: "cur" }], [active, next], T);
    assert.deepEqual(schedule.keys.map((key) => key.kid), ["cur"]);
  });
  await t.step("a published kid whose record has since expired or been revoked is left out", () => {
    const revoked = { ...next, revokedAt: T - 1 };
    const schedule = keySchedule([...published, { kid: "gone" }], [retired, active, revoked, expired], T);
    assert.deepEqual(schedule.keys.map((key) => key.kid), ["old", "cur"]);
  });
  await t.step("no private member and no row id appear", () => {
    const json = keySchedule(published, [retired, active, next], T).keysJson;
    for (const word of ['"blob"', '"d"', '"id"', '"x"', '"revokedAt"']) assert.ok(!json.includes(word), word);
  });
});

Deno.test("the schedule's ETag changes with a state or a time, never with the clock alone", () => {
  const records = [retired, active, next];
  const base = keySchedule(published, records, T).etag;
  assert.equal(keySchedule(published, records, T + 1).etag, base, "a second later, same states");
  assert.notEqual(keySchedule(published, records, T + 900).etag, base, "the next key signs");
  const moved = [retired, { ...active, retiresAt: T + 10 }, next];
  assert.notEqual(keySchedule(published, moved, T).etag, base, "a rotation moved a time");
});

Deno.test("etagMatches compares weakly, takes lists and *, and needs a header", () => {
  const etag = 'W/"abc"';
  assert.equal(etagMatches(null, etag), false);
  assert.equal(etagMatches('W/"abc"', etag), true);
  assert.equal(etagMatches('"abc"', etag), true);
  assert.equal(etagMatches('"x", W/"abc"', etag), true);
  assert.equal(etagMatches("*", etag), true);
  assert.equal(etagMatches('"abcd"', etag), false);
  assert.equal(etagMatches("", etag), false);
});
