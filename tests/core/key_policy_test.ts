import assert from "node:assert/strict";
import { cacheAfterChange, describePolicyChanges, lifecyclePolicy, policyChanges } from "../../lib/core/key_policy.ts";

/** One-minute-scale timings, so each derived number is easy to check by hand. */
const policy = lifecyclePolicy({ rotationInterval: 600, tokenTtl: 120, clockSkew: 30, retention: 1800 });

Deno.test("lifecyclePolicy() derives max-age, lead and window from the rotation rule", () => {
  assert.deepEqual(
    { maxAge: policy.maxAge, lead: policy.lead, window: policy.window },
    { maxAge: 150, lead: 180, window: 120 + 30 + 150 },
  );
  const daily = lifecyclePolicy();
  assert.equal(daily.maxAge, 300, "max-age is capped at 5 minutes");
  assert.equal(daily.lead, 330);
  assert.equal(daily.rotationInterval, 86_400);
  assert.throws(() => lifecyclePolicy({ rotationInterval: 59 }), /at least 60 seconds/);
  assert.equal(lifecyclePolicy({ rotationInterval: 60 }).rotationInterval, 60, "the minimum itself is accepted");
  assert.throws(() => lifecyclePolicy({ tokenTtl: 0 }), /Token TTL/);
  assert.throws(() => lifecyclePolicy({ clockSkew: -1 }), /Clock skew/);
  assert.throws(() => lifecyclePolicy({ retention: -1 }), /retention/);
});

Deno.test("policyChanges() names each setting that differs, and cacheAfterChange() what verifiers may hold", () => {
  const daily = lifecyclePolicy();
  const fast = lifecyclePolicy({ rotationInterval: 120, tokenTtl: 60 });
  assert.deepEqual(policyChanges(daily, daily), []);
  const changes = policyChanges(daily, fast);
  assert.deepEqual(changes, [
    { setting: "rotationInterval", from: 86_400, to: 120 },
    { setting: "tokenTtl", from: 900, to: 60 },
  ]);
  assert.equal(describePolicyChanges(changes), "rotation interval 1d → 2m, token TTL 15m → 1m");

  // A shorter max-age: copies served before the change live on under the old one.
  assert.deepEqual(cacheAfterChange(daily, fast, 1000), { maxAge: 300, until: 1300 });
  assert.deepEqual(cacheAfterChange(fast, daily, 1000), { maxAge: 0, until: 0 }, "a longer max-age needs nothing");
  assert.deepEqual(cacheAfterChange(null, fast, 1000), { maxAge: 0, until: 0 });
  assert.deepEqual(
    cacheAfterChange(fast, lifecyclePolicy({ rotationInterval: 60 }), 1100, { maxAge: 300, until: 1300 }),
    { maxAge: 300, until: 1300 },
    "an earlier change's copies are still out there",
  );
  assert.deepEqual(cacheAfterChange(fast, fast, 2000, { maxAge: 300, until: 1300 }), { maxAge: 0, until: 0 });
});
