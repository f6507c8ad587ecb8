import assert from "node:assert/strict";
import { lifecyclePolicy } from "../../lib/core/key_policy.ts";

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
