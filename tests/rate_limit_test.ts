import assert from "node:assert/strict";
import { MemoryRateLimiter } from "../lib/rate_limit.ts";
import { T0 } from "./helpers.ts";
import { rateLimiterContract } from "./rate_limit_contract.ts";

rateLimiterContract(
  "memory",
  (policy) => Promise.resolve({ limiter: new MemoryRateLimiter(policy), dispose: () => Promise.resolve() }),
);

Deno.test("the in-memory limiter forgets idle keys first and stays within its bound", () => {
  const limiter = new MemoryRateLimiter({ limit: 2, windowMs: 1000 }, { maxKeys: 3 });
  limiter.check("idle", T0);
  for (const key of ["a", "b", "c", "d"]) limiter.check(key, T0 + 5000);
  assert.equal(limiter.size, 3);
  assert.equal(limiter.check("idle", T0 + 5001).remaining, 1, "the idle key was forgotten, not a busy one");
});
