import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import {
  isEmptyPlan,
  type KeyIntent,
  type KeyPlan,
  type KeyRecord,
  keyState,
  planKeys,
} from "../../lib/core/key_lifecycle.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { lifecyclePolicy } from "../../lib/core/key_policy.ts";
import { freshKey } from "../support/helpers.ts";

/** Applies a plan the way a store would, with made-up kids and blobs; new keys are of `alg`. */
function apply(keys: readonly KeyRecord[], plan: KeyPlan, counter: { id: number }, alg: Alg = "RS256"): KeyRecord[] {
  const out = keys
    .filter((key) => !plan.deletes.includes(key.id))
    .map((key) => {
      const update = plan.updates.find((u) => u.id === key.id);
      return update === undefined ? key : { ...key, ...update };
    });
  for (const insert of plan.inserts) {
    const id = ++counter.id;
    out.push({
      id,
      blob: new Uint8Array(),
      kid: `kid-${id}`,
      alg,
      publicJwk: { kty: "RSA", kid: `kid-${id}`, use: "sig", alg, n: "n", e: "AQAB" },
      revokedAt: null,
      ...insert,
    });
  }
  return out;
}

const policy = lifecyclePolicy({ rotationInterval: 600, tokenTtl: 120, clockSkew: 30, retention: 1800 });
const T = 1_800_000_000;

function step(keys: readonly KeyRecord[], now: number, counter: { id: number }, intent?: KeyIntent): KeyRecord[] {
  return apply(keys, planKeys(keys, now, policy, intent), counter);
}

function states(keys: readonly KeyRecord[], now: number) {
  const by = (state: string) => keys.filter((key) => keyState(key, now) === state);
  return { active: by("active"), next: by("next"), retired: by("retired"), expired: by("expired") };
}

/** The lifecycle invariants that must hold after every maintenance step. */
function assertInvariants(keys: readonly KeyRecord[], now: number, bootstrapIds: ReadonlySet<number>) {
  const s = states(keys, now);
  assert.equal(s.active.length, 1, `exactly one active key at ${now - T}`);
  assert.ok(s.next.length >= 1, `a published next key at ${now - T}`);
  const active = s.active[0]!;
  const next = s.next.sort((a, b) => a.activatesAt - b.activatesAt)[0]!;
  assert.equal(active.retiresAt, next.activatesAt, "the active key retires exactly when the next activates");
  for (const key of keys) {
    if (key.revokedAt !== null || key.exp <= key.createdAt) continue;
    if (!bootstrapIds.has(key.id)) {
      assert.ok(
        key.activatesAt - key.createdAt >= policy.lead,
        `key ${key.id} published ${policy.lead} s before it signs`,
      );
    }
    assert.equal(key.exp, key.retiresAt + policy.window, `key ${key.id} stays published for the window after retiring`);
  }
  assert.ok(
    keys.some((key) => key.exp <= now && key.revokedAt === null),
    "an expired key is kept for ?expired=true",
  );
  for (const key of s.expired) {
    assert.ok(
      key.exp + policy.retention > now || key === newestExpired(keys, now),
      `expired key ${key.id} purged after retention`,
    );
  }
}

function newestExpired(keys: readonly KeyRecord[], now: number): KeyRecord | undefined {
  return keys.filter((k) => k.exp <= now && k.revokedAt === null).sort((a, b) => b.exp - a.exp || b.id - a.id)[0];
}

Deno.test("planKeys() on an empty store creates an active, a next and an expired key", () => {
  const plan = planKeys([], T, policy);
  assert.equal(plan.generated, 3);
  const [active, next, expired] = plan.inserts;
  assert.deepEqual(active, { source: 0, createdAt: T, activatesAt: T, retiresAt: T + 600, exp: T + 600 + 300 });
  assert.deepEqual(next, {
    source: 1,
    createdAt: T,
    activatesAt: T + 600,
    retiresAt: T + 1200,
    exp: T + 1200 + 300,
  });
  assert.deepEqual(expired, { source: 2, createdAt: T - 1, activatesAt: T - 1, retiresAt: T - 1, exp: T - 1 });
});

Deno.test("planKeys() is idempotent: planning again at the same instant changes nothing", () => {
  const counter = { id: 0 };
  const keys = step([], T, counter);
  assert.ok(isEmptyPlan(planKeys(keys, T, policy)));
  assert.ok(isEmptyPlan(planKeys(keys, T + 600 - policy.lead - 1, policy)), "nothing due until then");
});

Deno.test("the next key's successor is published a lead time before the next key signs", () => {
  const counter = { id: 0 };
  let keys = step([], T, counter);
  const due = T + 600 - policy.lead;
  keys = step(keys, due, counter);
  const next = states(keys, due).next.sort((a, b) => a.activatesAt - b.activatesAt);
  assert.equal(next.length, 2, "the next key and its successor");
  assert.equal(next[0]!.activatesAt, T + 600);
  assert.equal(next[1]!.activatesAt, T + 1200, "the schedule is unchanged");
  assert.equal(states(keys, T + 600).next.length, 1, "when the next key takes over, a next key is already there");
});

Deno.test("the lifecycle holds at every clock value over many rotations", async (t) => {
  for (const stride of [1, 7, 59, 61, 173, 599]) {
    await t.step(`maintenance every ${stride} s for 4 hours`, () => {
      const counter = { id: 0 };
      let keys = step([], T, counter);
      const bootstrap = new Set(keys.map((key) => key.id));
      const seenActive = new Set<string>();
      for (let now = T; now <= T + 4 * 3600; now += stride) {
        keys = step(keys, now, counter);
        assertInvariants(keys, now, bootstrap);
        if (stride <= policy.lead) {
          const before = states(keys, now + stride - 1);
          assert.equal(before.active.length, 1, "one key signs until the next step");
          assert.ok(before.next.length >= 1, "a next key is published until the next step");
        }
        seenActive.add(states(keys, now).active[0]!.kid);
        assert.ok(isEmptyPlan(planKeys(keys, now, policy)), "one step brings the set up to date");
      }
      assert.ok(seenActive.size >= 4 * 3600 / 600 - 1, "keys really rotated");
    });
  }
});

Deno.test("a token signed at any instant verifies until it expires", () => {
  // Every token issued while a key is active must find that key published for its whole life.
  const counter = { id: 0 };
  let keys = step([], T, counter);
  for (let now = T; now <= T + 3 * 3600; now += 13) {
    keys = step(keys, now, counter);
    const signer = states(keys, now).active[0]!;
    const tokenExp = Math.min(now + policy.tokenTtl, signer.exp);
    assert.ok(signer.exp >= tokenExp + policy.clockSkew, "key outlives the token and the skew");
    assert.ok(keyState(signer, tokenExp - 1) !== "expired", "key still published when the token is about to expire");
  }
});

/** A fresh key set at T, rotated at `now`: the keys after, and their states at `now`. */
function rotatedAt(now: number) {
  const counter = { id: 0 };
  const rotated = step(step([], T, counter), now, counter, { kind: "rotate" });
  return { rotated, s: states(rotated, now) };
}

Deno.test("rotate publishes the next key before it signs", async (t) => {
  await t.step("a next key younger than the lead time waits for it", () => {
    const { rotated, s } = rotatedAt(T + 10);
    assert.equal(s.active[0]!.id, 1, "the current key keeps signing");
    const next = s.next.sort((a, b) => a.activatesAt - b.activatesAt);
    assert.equal(next[0]!.id, 2);
    assert.equal(next[0]!.activatesAt, T + policy.lead, "activates one lead after it was published");
    assert.equal(next.length, 2, "a fresh key is published behind it");
    assert.equal(next[1]!.activatesAt, next[0]!.retiresAt);
    assert.equal(states(rotated, T + policy.lead).active[0]!.id, 2);
  });
  await t.step("a next key older than the lead time takes over at once", () => {
    const now = T + 400;
    const { s } = rotatedAt(now);
    assert.equal(s.active[0]!.id, 2);
    assert.equal(s.retired[0]!.id, 1);
    assert.equal(s.retired[0]!.exp, now + policy.window, "the old key stays published for the window");
    assert.equal(s.next.length, 1);
    assert.equal(s.next[0]!.activatesAt, now + 600);
    assert.ok(s.next[0]!.activatesAt - s.next[0]!.createdAt >= policy.lead);
  });
});

Deno.test("revoke", async (t) => {
  await t.step("revoking the active key hands over to the next key immediately", () => {
    const counter = { id: 0 };
    const keys = step([], T, counter);
    const now = T + 100;
    const after = step(keys, now, counter, { kind: "revoke", kid: "kid-1" });
    const revoked = after.find((key) => key.id === 1)!;
    assert.equal(revoked.revokedAt, now);
    assert.equal(keyState(revoked, now), "expired", "gone from the JWKS at once");
    const s = states(after, now);
    assert.equal(s.active.length, 1);
    assert.equal(s.active[0]!.id, 2);
    assert.equal(s.next.length, 1, "a new next key is published");
  });
  await t.step("revoking the next key publishes another", () => {
    const counter = { id: 0 };
    const keys = step([], T, counter);
    const after = step(keys, T + 5, counter, { kind: "revoke", kid: "kid-2" });
    const s = states(after, T + 5);
    assert.equal(s.active[0]!.id, 1);
    assert.equal(s.next.length, 1);
    assert.notEqual(s.next[0]!.id, 2);
    assert.equal(s.next[0]!.activatesAt, T + 600, "the schedule is kept");
    assert.equal(s.active[0]!.retiresAt, T + 600);
  });
  await t.step("revoking twice is harmless and an unknown kid is not found", () => {
    const counter = { id: 0 };
    const keys = step(step([], T, counter), T + 5, counter, { kind: "revoke", kid: "kid-2" });
    const again = planKeys(keys, T + 6, policy, { kind: "revoke", kid: "kid-2" });
    assert.ok(isEmptyPlan(again));
    assert.throws(
      () => planKeys(keys, T + 6, policy, { kind: "revoke", kid: "nope" }),
      (error: AppError) => error.code === "not_found",
    );
  });
  await t.step("a revoked key never signs expired tokens", () => {
    const counter = { id: 0 };
    let keys = step([], T, counter);
    keys = step(keys, T + 5, counter, { kind: "revoke", kid: "kid-3" });
    const spare = newestExpired(keys, T + 5)!;
    assert.notEqual(spare.id, 3);
    assert.equal(spare.revokedAt, null);
  });
});

Deno.test("import schedules the imported key as the next key", async () => {
  const counter = { id: 0 };
  const keys = step([], T, counter);
  const material = await freshKey("EdDSA");
  const plan = planKeys(keys, T + 50, policy, { kind: "import", material });
  assert.equal(plan.generated, 0);
  assert.equal(plan.inserts.length, 1);
  assert.equal(plan.inserts[0]!.source, "import");
  assert.equal(plan.inserts[0]!.activatesAt, T + 600, "takes the slot after the active key");
  const moved = plan.updates.find((u) => u.id === 2)!;
  assert.equal(moved.activatesAt, T + 1200, "the generated next key moves behind it");
  assert.throws(
    () =>
      planKeys(keys.map((key) => key.id === 2 ? { ...key, kid: material.kid } : key), T, policy, {
        kind: "import",
        material,
      }),
    (error: AppError) => error.code === "conflict",
  );
});

Deno.test("purge keeps the newest expired key and drops older ones after retention", () => {
  const counter = { id: 0 };
  let keys = step([], T, counter);
  for (let now = T; now <= T + 6 * 3600; now += 60) keys = step(keys, now, counter);
  const now = T + 6 * 3600;
  const expired = keys.filter((key) => key.exp <= now);
  assert.equal(expired.length >= 1, true);
  for (const key of expired) assert.ok(key.exp + policy.retention > now || key === newestExpired(keys, now));
  assert.ok(keys.length <= 1 + 2 + Math.ceil((policy.window + policy.retention) / 600) + 1, "the table stays small");
});

Deno.test("after a downtime longer than an interval a new key signs at once", () => {
  const counter = { id: 0 };
  const keys = step([], T, counter);
  const now = T + 5 * 3600;
  const after = step(keys, now, counter);
  const s = states(after, now);
  assert.equal(s.active.length, 1);
  assert.equal(s.active[0]!.createdAt, now);
  assert.equal(s.next.length, 1);
});

Deno.test("two keys signing at once (a damaged schedule) heal to one", () => {
  const counter = { id: 0 };
  const keys = step([], T, counter).map((key) => key.id === 2 ? { ...key, activatesAt: T, createdAt: T - 1000 } : key);
  const healed = step(keys, T + 1, counter);
  assert.equal(states(healed, T + 1).active.length, 1);
});

Deno.test("keyState() at the boundaries: a key stops being published at exactly its exp", () => {
  const counter = { id: 0 };
  const [active, next] = step([], T, counter);
  assert.equal(keyState(next!, next!.activatesAt - 1), "next");
  assert.equal(keyState(next!, next!.activatesAt), "active", "signs from exactly activatesAt");
  assert.equal(keyState(active!, active!.retiresAt - 1), "active");
  assert.equal(keyState(active!, active!.retiresAt), "retired", "hands over at exactly retiresAt");
  assert.equal(keyState(active!, active!.exp - 1), "retired", "published until the second before exp");
  assert.equal(keyState(active!, active!.exp), "expired", "gone at exactly exp");
  assert.equal(keyState({ ...next!, revokedAt: T }, T), "expired", "a revoked key is never published");
});

Deno.test("after a downtime longer than the retention, the newest expired key is kept and the others purged", () => {
  const counter = { id: 0 };
  const keys = step([], T, counter);
  const now = T + 6 * 3600;
  const plan = planKeys(keys, now, policy);
  const newest = newestExpired(keys, now)!;
  assert.equal(newest.id, 2, "the old next key expired last");
  assert.ok(!plan.deletes.includes(newest.id), "the newest expired key is not purged");
  assert.deepEqual([...plan.deletes].sort(), keys.filter((key) => key !== newest).map((key) => key.id).sort());
  const after = apply(keys, plan, counter);
  assert.equal(newestExpired(after, now)?.id, newest.id, "?expired=true still has its key");
  assert.equal(after.filter((key) => keyState(key, now) === "expired").length, 1, "and only that one");
  assertInvariants(after, now, new Set(after.map((key) => key.id)));
});

Deno.test("a change of algorithm withdraws the waiting key of the old one; the new one signs after the lead time", () => {
  const counter = { id: 0 };
  const keys = step([], T, counter);
  const es256 = lifecyclePolicy({ rotationInterval: 600, tokenTtl: 120, clockSkew: 30, retention: 1800, alg: "ES256" });
  const now = T + 10;
  const plan = planKeys(keys, now, es256);
  assert.equal(plan.updates.find((update) => update.id === 2)?.revokedAt, now, "the RS256 key that never signed");
  assert.equal(plan.generated, 2, "the ES256 key, and its successor, due at once since the first signs in a lead time");
  assert.equal(plan.inserts.length, 2);
  const [successor, third] = plan.inserts;
  assert.equal(successor!.activatesAt, now + es256.lead);
  assert.equal(third!.activatesAt, successor!.activatesAt + es256.rotationInterval);
  const active = plan.updates.find((update) => update.id === 1);
  assert.equal(active?.retiresAt, successor!.activatesAt, "the RS256 key signs until the ES256 key may");
  for (const later of [now, now + 1, now + es256.lead]) {
    const again = planKeys(apply(keys, plan, counter, "ES256"), later, es256);
    assert.deepEqual([again.updates, again.inserts], [[], []], `nothing more to do at now + ${later - now} s`);
  }
});

Deno.test("a key that has signed keeps its exp when a restart brings a shorter token lifetime", () => {
  const counter = { id: 0 };
  const keys = step([], T, counter);
  const shorter = lifecyclePolicy({ rotationInterval: 600, tokenTtl: 30, clockSkew: 30, retention: 1800 });
  assert.ok(shorter.window < policy.window);
  const signer = keys.find((key) => key.id === 1)!;
  const plan = planKeys(keys, T + 10, shorter);
  const update = plan.updates.find((u) => u.id === 1);
  assert.ok(update === undefined || update.exp >= signer.exp, "tokens it signed stay verifiable until they expire");
  const waiting = plan.updates.find((u) => u.id === 2);
  assert.equal(waiting?.exp, T + 1200 + shorter.window, "a key that never signed takes the new window");
});

Deno.test("replan: a new policy takes effect on the stored keys", async (t) => {
  const daily = lifecyclePolicy({ rotationInterval: 86_400, tokenTtl: 900, clockSkew: 60 });
  const fast = lifecyclePolicy({ rotationInterval: 120, tokenTtl: 60, clockSkew: 60 });
  const planWith = (keys: readonly KeyRecord[], now: number, p: typeof policy, intent?: KeyIntent, cache?: {
    maxAge: number;
    until: number;
  }, counter = { id: keys.length }) => apply(keys, planKeys(keys, now, p, intent, cache ? { cache } : {}), counter);
  // A day-long key set, one hour in: the active key signs until T + 1 d, the next key waits.
  const day = planWith([], T, daily);
  const now = T + 3600;

  await t.step("24 h to 2 min: the active key hands over at once, its successor long published", () => {
    const replanned = planWith(day, now, fast, { kind: "replan" });
    const s = states(replanned, now);
    assert.equal(s.active.length, 1);
    assert.equal(s.active[0]!.id, 2, "the next key signs now: it was published an hour ago");
    const old = replanned.find((key) => key.id === 1)!;
    assert.equal(old.retiresAt, now);
    assert.equal(old.exp, now + daily.window, "tokens it signed (15 min ones) keep verifying");
    assert.equal(s.active[0]!.retiresAt, now + 120, "the new interval");
    assert.ok(isEmptyPlan(planKeys(replanned, now, fast)), "a maintenance step afterwards changes nothing");
  });

  await t.step("never before the successor has been published for the lead time", () => {
    // The next key was revoked 10 s ago: its replacement is young.
    const revoked = planWith(day, now - 10, daily, { kind: "revoke", kid: "kid-2" });
    const young = revoked.find((key) => key.createdAt === now - 10 && key.exp > now)!;
    const replanned = planWith(revoked, now, fast, { kind: "replan" });
    const active = states(replanned, now).active[0]!;
    assert.equal(active.id, 1, "the current key keeps signing, though its new interval is over");
    assert.equal(active.retiresAt, young.createdAt + fast.lead, "it hands over once the next key is a lead time old");
    const cached = planWith(revoked, now, fast, { kind: "replan" }, {
      maxAge: daily.maxAge,
      until: now + daily.maxAge,
    });
    assert.equal(
      states(cached, now).active[0]!.retiresAt,
      young.createdAt + daily.lead,
      "a key published just before the change waits for copies cached under the old max-age",
    );
  });

  await t.step("keys created after the change wait for JWKS copies cached under the old max-age", () => {
    const cache = { maxAge: daily.maxAge, until: now + daily.maxAge };
    const replanned = planWith(day, now, fast, { kind: "replan" }, cache);
    const fresh = replanned.filter((key) => key.createdAt === now && key.exp > now);
    assert.equal(fresh.length, 1, "a new next key");
    assert.ok(
      fresh[0]!.activatesAt >= now + daily.maxAge + 30,
      `a verifier that fetched just before the change holds its copy ${daily.maxAge} s`,
    );
    assert.equal(states(replanned, now).active[0]!.id, 2, "the old next key, in every cached copy, signs now");
  });

  await t.step("2 min to 24 h: the active key signs for the new interval and the waiting keys move", () => {
    const quick = planWith([], T, fast);
    const at = T + 30;
    const replanned = planWith(quick, at, daily, { kind: "replan" });
    const s = states(replanned, at);
    assert.equal(s.active[0]!.id, 1);
    assert.equal(s.active[0]!.retiresAt, T + 86_400, "it hands over a day after it started");
    const next = s.next.sort((a, b) => a.activatesAt - b.activatesAt)[0]!;
    assert.equal(next.activatesAt, T + 86_400);
    assert.equal(next.retiresAt, T + 2 * 86_400, "the waiting key gets the new interval");
  });

  await t.step("retired keys keep their schedule: tokens they signed live by the old rules", () => {
    const counter = { id: 0 };
    let keys = planWith([], T, fast, undefined, undefined, counter);
    for (let at = T; at <= T + 300; at += 2) keys = planWith(keys, at, fast, undefined, undefined, counter);
    const retired = states(keys, T + 300).retired;
    assert.ok(retired.length > 0);
    const replanned = planWith(keys, T + 300, daily, { kind: "replan" }, undefined, counter);
    for (const key of retired) assert.deepEqual(replanned.find((k) => k.id === key.id), key);
  });
});

Deno.test("a restart after the next key's turn has come plans everything in one run: planning again finds nothing", () => {
  // One-minute rotation: lead 45 s. A server stopped 70 s after it started; its next key signs now.
  const minute = lifecyclePolicy({ rotationInterval: 60, tokenTtl: 60, clockSkew: 30, retention: 600 });
  for (const downtime of [70, 75, 80, 100]) {
    const counter = { id: 0 };
    const first = apply([], planKeys([], T, minute), counter);
    const now = T + downtime;
    const plan = planKeys(first, now, minute);
    const after = apply(first, plan, counter);
    const { active, next } = states(after, now);
    assert.equal(active.length, 1, `downtime ${downtime} s: one key signs`);
    assert.ok(next.length >= 1, `downtime ${downtime} s: a next key is published`);
    // The newest key's successor falls due a lead time before that key signs; until then, nothing.
    const due = Math.max(...after.map((key) => key.activatesAt)) - minute.lead;
    assert.ok(due > now, `downtime ${downtime} s: nothing is due right after the run`);
    for (const later of new Set([now, now + 1, due - 1])) {
      const again = planKeys(after, later, minute);
      assert.deepEqual([again.inserts, again.updates], [[], []], `downtime ${downtime} s, again at +${later - now} s`);
    }
  }
});
