import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { CLOCK_SLACK_MS, openRedisRateLimiter } from "../../lib/store/redis.ts";
import { T0 } from "../support/helpers.ts";
import { rateLimiterContract } from "../support/rate_limit_contract.ts";
import { deleteRedisPrefix, redisService } from "../support/services.ts";

const redis = await redisService("redis_rate_limit_test");
const ignore = redis.url === null;
const opts = { ignore, sanitizeResources: false, sanitizeOps: false };

/** A key prefix no other test run shares. */
const freshPrefix = () => `jwks-test:${crypto.randomUUID().slice(0, 8)}:`;

/** Deletes every key under `prefix`. */
const cleanUp = (prefix: string) => deleteRedisPrefix(redis.url!, prefix);

/** A Redis test with a fresh key prefix and a client of its own, both cleaned up after. */
function withRedis(name: string, fn: (prefix: string, client: Redis) => Promise<void>): void {
  Deno.test({
    name,
    ...opts,
    async fn() {
      const prefix = freshPrefix();
      const client = new Redis(redis.url!);
      try {
        await fn(prefix, client);
      } finally {
        client.disconnect();
        await cleanUp(prefix);
      }
    },
  });
}

rateLimiterContract("redis", async (policy) => {
  const prefix = freshPrefix();
  const limiter = await openRedisRateLimiter(redis.url!, policy, { prefix, timeoutMs: 2000 });
  return { limiter, dispose: async () => (await limiter.close(), await cleanUp(prefix)) };
}, { ignore });

Deno.test({
  name: "two instances on one Redis share one budget per key",
  ...opts,
  async fn() {
    const prefix = freshPrefix();
    const url = new URL(redis.url!);
    url.searchParams.set("prefix", prefix);
    const policy = { limit: 10, windowMs: 1000 };
    const [a, b] = await Promise.all([openRedisRateLimiter(url.href, policy), openRedisRateLimiter(url.href, policy)]);
    try {
      const decisions = await Promise.all(
        Array.from({ length: 11 }, (_, i) => (i % 2 === 0 ? a : b).check("auth|203.0.113.5", T0 + i)),
      );
      assert.equal(decisions.filter((d) => d.allowed).length, 10);
      assert.equal(decisions.filter((d) => !d.allowed).length, 1);
      assert.equal(a.degraded || b.degraded, false);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await cleanUp(prefix);
    }
  },
});

withRedis("every key expires a window (plus clock slack) after its last admitted request", async (prefix, client) => {
  const limiter = await openRedisRateLimiter(redis.url!, { limit: 2, windowMs: 1000 }, { prefix });
  try {
    await limiter.check("ip", T0);
    await limiter.check("ip", T0 + 1);
    await limiter.check("ip", T0 + 2);
    const ttl = await client.pttl(`${prefix}ip`);
    assert.ok(ttl > 0 && ttl <= 1000 + CLOCK_SLACK_MS, `PTTL ${ttl}`);
    assert.equal(await client.zcard(`${prefix}ip`), 2, "the refused request is not stored");
  } finally {
    await limiter.close();
  }
});

withRedis(
  "a Redis outage falls back to per-instance limits, is reported once, and its end too",
  async (prefix, admin) => {
    const reports: string[] = [];
    const limiter = await openRedisRateLimiter(redis.url!, { limit: 3, windowMs: 1000 }, {
      prefix,
      onUnavailable: () => reports.push("down"),
      onRecovered: () => reports.push("up"),
    });
    try {
      assert.equal((await limiter.check("ip", T0)).allowed, true);
      // Cut the limiter's connection from the server side, as a Redis restart would.
      const clients = (await admin.client("LIST")) as string;
      const ids = clients.split("\n").filter((line) => line.includes("name=jwks-server")).map((line) =>
        /\bid=(\d+)/.exec(line)![1]!
      );
      assert.ok(ids.length >= 1);
      for (const id of ids) await admin.client("KILL", "ID", id);
      const during: boolean[] = [];
      const deadline = Date.now() + 10_000;
      while (!reports.includes("up") && Date.now() < deadline) {
        const decision = await limiter.check("ip", T0 + 10);
        if (limiter.degraded) during.push(decision.allowed);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(reports, ["down", "up"], "one report when it went away, one when it came back");
      assert.ok(during.length >= 1, "some checks were decided while degraded");
      assert.deepEqual(during.slice(0, 4), [true, true, true, false].slice(0, Math.min(4, during.length)));
    } finally {
      await limiter.close();
    }
  },
);

Deno.test({
  name: "an unreachable Redis does not stop the start: limits are kept in memory and the outage reported",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const reports: unknown[] = [];
    const limiter = await openRedisRateLimiter("redis://:not-shown@127.0.0.1:1/0", { limit: 2, windowMs: 1000 }, {
      connectTimeoutMs: 500,
      onUnavailable: (error) => reports.push(error),
    });
    try {
      assert.equal(limiter.degraded, true);
      const decisions = [];
      for (let i = 0; i < 3; i++) decisions.push((await limiter.check("ip", T0)).allowed);
      assert.deepEqual(decisions, [true, true, false], "the same policy, enforced in memory");
      assert.equal(reports.length, 1, "reported once, not once per request");
      assert.ok(!limiter.description.includes("not-shown"), limiter.description);
    } finally {
      await limiter.close();
    }
  },
});

Deno.test("a Redis URL that cannot be parsed is refused as configuration", async () => {
  await assert.rejects(
    openRedisRateLimiter("redis://[bad", { limit: 1, windowMs: 1000 }),
    (error: Error & { code?: string }) => error.code === "invalid_config",
  );
});
