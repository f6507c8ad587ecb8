/**
 * Micro benchmarks of the rate-limit decision: the pure sliding-window `decide()`, the in-memory
 * limiter for one busy client, and for a flood of distinct clients that keeps it at its key cap.
 * @module
 */
import { decide, MemoryRateLimiter } from "../lib/core/rate_limit.ts";

const policy = { limit: 10, windowMs: 1000 };
let now = 0;

Deno.bench("decide(): one sliding-window decision", { group: "rate limit" }, () => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(i);
  decide(times, 10, policy);
});

const one = new MemoryRateLimiter(policy);
Deno.bench("MemoryRateLimiter.check(): one client (mostly refused)", { group: "rate limit" }, () => {
  one.check("/auth|127.0.0.1", now += 1);
});

const many = new MemoryRateLimiter(policy, { maxKeys: 10_000 });
let client = 0;
Deno.bench("MemoryRateLimiter.check(): a new client each time, at the 10,000-key cap", { group: "rate limit" }, () => {
  many.check(`/auth|10.0.${(client >> 8) & 255}.${client++ & 255}:${client}`, now += 1);
});
