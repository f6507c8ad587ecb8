import assert from "node:assert/strict";
import { decide, MemoryRateLimiter } from "../../lib/core/rate_limit.ts";
import { T0 } from "../support/helpers.ts";
import { rateLimiterContract } from "../support/rate_limit_contract.ts";

rateLimiterContract(
  "memory",
  (policy) => Promise.resolve({ limiter: new MemoryRateLimiter(policy), dispose: () => Promise.resolve() }),
);

const policy = { limit: 10, windowMs: 1000 };

Deno.test("the sliding window is exact at its edges", async (t) => {
  await t.step("10 at t pass, the 11th at t+999 ms is refused, one more at t+1000 ms passes", () => {
    const limiter = new MemoryRateLimiter(policy);
    for (let i = 0; i < 10; i++) assert.equal(limiter.check("ip", T0).allowed, true, `request ${i + 1}`);
    const eleventh = limiter.check("ip", T0 + 999);
    assert.equal(eleventh.allowed, false);
    assert.equal(eleventh.remaining, 0);
    assert.equal(eleventh.resetMs, 1, "one more is admitted in 1 ms");
    assert.equal(limiter.check("ip", T0 + 1000).allowed, true);
  });
  await t.step("ten requests spaced 100 ms apart pass and an immediate eleventh is refused", () => {
    const limiter = new MemoryRateLimiter(policy);
    for (let i = 0; i < 10; i++) assert.equal(limiter.check("ip", T0 + i * 100).allowed, true);
    assert.equal(limiter.check("ip", T0 + 905).allowed, false);
    assert.equal(limiter.check("ip", T0 + 1000).allowed, true, "the first has left the window");
    assert.equal(limiter.check("ip", T0 + 1001).allowed, false, "the second is still in it");
  });
  await t.step("refused requests do not count against the window", () => {
    const limiter = new MemoryRateLimiter(policy);
    for (let i = 0; i < 10; i++) limiter.check("ip", T0);
    for (let i = 0; i < 50; i++) assert.equal(limiter.check("ip", T0 + 500).allowed, false);
    assert.equal(limiter.check("ip", T0 + 1000).allowed, true);
  });
  await t.step("keys are independent", () => {
    const limiter = new MemoryRateLimiter(policy);
    for (let i = 0; i < 10; i++) limiter.check("a", T0);
    assert.equal(limiter.check("a", T0).allowed, false);
    assert.equal(limiter.check("b", T0).allowed, true);
  });
});

Deno.test("decide() reports remaining requests and when one more will pass", () => {
  const times: number[] = [];
  const first = decide(times, 100, { limit: 3, windowMs: 1000 });
  assert.deepEqual(first, { allowed: true, limit: 3, remaining: 2, resetMs: 0 });
  decide(times, 200, { limit: 3, windowMs: 1000 });
  const third = decide(times, 300, { limit: 3, windowMs: 1000 });
  assert.deepEqual(third, { allowed: true, limit: 3, remaining: 0, resetMs: 800 });
  const refused = decide(times, 400, { limit: 3, windowMs: 1000 });
  assert.deepEqual(refused, { allowed: false, limit: 3, remaining: 0, resetMs: 700 });
  assert.deepEqual(times, [100, 200, 300]);
});

Deno.test("memory stays bounded with 100,000 distinct client IPs", () => {
  const limiter = new MemoryRateLimiter(policy, { maxKeys: 10_000 });
  let now = T0;
  for (let i = 0; i < 100_000; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(limiter.check(ip, now).allowed, true);
    if (i % 10 === 0) now += 1;
    assert.ok(limiter.size <= 10_000);
  }
  assert.equal(limiter.size <= 10_000, true);
  assert.ok(limiter.size > 0);
});

Deno.test("under memory pressure idle keys are forgotten before busy ones", () => {
  const limiter = new MemoryRateLimiter(policy, { maxKeys: 3 });
  limiter.check("idle-1", T0);
  limiter.check("idle-2", T0 + 10);
  for (let i = 0; i < 10; i++) limiter.check("busy", T0 + 1500);
  limiter.check("new", T0 + 1600);
  assert.equal(limiter.size, 2, "both idle keys left once their windows passed");
  assert.equal(limiter.check("busy", T0 + 1600).allowed, false, "the busy key kept its history");
});

Deno.test("the in-memory limiter forgets idle keys first and stays within its bound", () => {
  const limiter = new MemoryRateLimiter({ limit: 2, windowMs: 1000 }, { maxKeys: 3 });
  limiter.check("idle", T0);
  for (const key of ["a", "b", "c", "d"]) limiter.check(key, T0 + 5000);
  assert.equal(limiter.size, 3);
  assert.equal(limiter.check("idle", T0 + 5001).remaining, 1, "the idle key was forgotten, not a busy one");
});

Deno.test("under pressure the least recently used key goes, not the first one inserted", () => {
  const limiter = new MemoryRateLimiter({ limit: 5, windowMs: 1000 }, { maxKeys: 3 });
  limiter.check("busy", T0);
  limiter.check("a", T0 + 10);
  limiter.check("b", T0 + 20);
  limiter.check("busy", T0 + 30); // busy was inserted first but is now the most recently used
  limiter.check("c", T0 + 40); // one key too many, none idle yet: the least recently used goes
  assert.equal(limiter.size, 3);
  assert.equal(limiter.check("busy", T0 + 50).remaining, 2, "busy kept its two earlier requests");
  assert.equal(limiter.check("a", T0 + 60).remaining, 4, "a, the least recently used, was forgotten");
});
