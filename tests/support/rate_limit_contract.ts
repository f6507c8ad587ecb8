/**
 * The rate-limiter contract: every `RateLimiter` must make exactly the decisions of `decide()`
 * (the sliding log of admitted requests) for an injected `now`. Each limiter's test file calls
 * {@linkcode rateLimiterContract} with a factory for fresh, empty limiters.
 * @module
 */
import assert from "node:assert/strict";
import { decide, type RateDecision, type RateLimiter } from "../../lib/core/rate_limit.ts";
import { type RateLimit } from "../../lib/core/units.ts";
import { T0 } from "./helpers.ts";

/** Makes an empty limiter for `policy` and a function that disposes of it. */
export type RateLimiterFactory = (policy: RateLimit) => Promise<{ limiter: RateLimiter; dispose: () => Promise<void> }>;

const tenPerSecond: RateLimit = { limit: 10, windowMs: 1000 };

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Registers the contract tests for one implementation. */
export function rateLimiterContract(
  name: string,
  factory: RateLimiterFactory,
  options: { ignore?: boolean } = {},
): void {
  const sanitizers = { sanitizeResources: false, sanitizeOps: false };
  const test = (title: string, policy: RateLimit, fn: (limiter: RateLimiter) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, { ignore: options.ignore ?? false, ...sanitizers }, async () => {
      const { limiter, dispose } = await factory(policy);
      try {
        await fn(limiter);
      } finally {
        await dispose();
      }
    });

  test(
    "ten requests at t pass, the 11th at t+999 ms gets refused, one at t+1000 ms passes",
    tenPerSecond,
    async (limiter) => {
      const decisions: RateDecision[] = [];
      for (let i = 0; i < 10; i++) decisions.push(await limiter.check("ip", T0));
      assert.ok(decisions.every((d) => d.allowed));
      assert.deepEqual(decisions.map((d) => d.remaining), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      assert.deepEqual(decisions.at(-1), { allowed: true, limit: 10, remaining: 0, resetMs: 1000 });
      assert.deepEqual(await limiter.check("ip", T0 + 999), { allowed: false, limit: 10, remaining: 0, resetMs: 1 });
      assert.deepEqual(await limiter.check("ip", T0 + 1000), { allowed: true, limit: 10, remaining: 9, resetMs: 0 });
    },
  );

  test("refused requests are not counted against the window", { limit: 2, windowMs: 1000 }, async (limiter) => {
    assert.equal((await limiter.check("ip", T0)).allowed, true);
    assert.equal((await limiter.check("ip", T0 + 500)).allowed, true);
    assert.equal((await limiter.check("ip", T0 + 900)).allowed, false);
    assert.equal((await limiter.check("ip", T0 + 999)).allowed, false);
    assert.equal(
      (await limiter.check("ip", T0 + 1400)).allowed,
      true,
      "only the admitted T0 + 500 is still in the window",
    );
    assert.equal((await limiter.check("ip", T0 + 1450)).allowed, false);
  });

  test("each key has a window of its own", tenPerSecond, async (limiter) => {
    for (let i = 0; i < 10; i++) await limiter.check("a", T0);
    assert.equal((await limiter.check("a", T0 + 1)).allowed, false);
    assert.equal((await limiter.check("b", T0 + 1)).allowed, true);
    assert.equal((await limiter.check("auth|10.0.0.1", T0 + 1)).remaining, 9);
  });

  test(
    "a long random sequence gets exactly the decisions of decide()",
    { limit: 5, windowMs: 700 },
    async (limiter) => {
      const policy = { limit: 5, windowMs: 700 };
      const next = random(20261122);
      const logs = new Map<string, number[]>();
      let now = T0;
      for (let i = 0; i < 400; i++) {
        now += Math.floor(next() * 120);
        const key = `k${Math.floor(next() * 3)}`;
        const log = logs.get(key) ?? [];
        logs.set(key, log);
        const expected = decide(log, now, policy);
        assert.deepEqual(await limiter.check(key, now), expected, `check ${i} of ${key} at T0 + ${now - T0}`);
      }
    },
  );

  test("requests at the same millisecond each count", { limit: 3, windowMs: 1000 }, async (limiter) => {
    const decisions = await Promise.all([1, 2, 3, 4, 5].map(() => limiter.check("ip", T0)));
    assert.equal(decisions.filter((d) => d.allowed).length, 3);
  });
}
