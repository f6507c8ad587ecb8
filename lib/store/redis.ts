/**
 * Sliding-window rate limits shared by several instances through Redis (npm `ioredis`): exactly
 * the decisions of `decide()` in `rate_limit.ts`, made atomically by one Lua script over a
 * sorted set per key (members are admitted requests, scores their times), with `PEXPIRE` so an
 * idle key disappears and memory stays bounded.
 *
 * Redis down fails open to a degraded limit, not to no limit: while Redis does not answer,
 * decisions come from an in-memory limiter with the same policy (so each instance enforces the
 * limit on its own) and the outage is reported once, then its end. Logins keep working.
 * @module
 */
import type { Redis } from "ioredis";
import type { RateLimit } from "../core/units.ts";
import { AppError } from "../core/errors.ts";
import { MemoryRateLimiter, type RateDecision, type RateLimiter } from "../core/rate_limit.ts";

/** Options of {@linkcode openRedisRateLimiter}. */
export interface RedisRateLimiterOptions {
  /** Prefix of every Redis key. Default `jwks:rate:`; a `prefix` URL query parameter also sets it. */
  prefix?: string;
  /** How long one check waits for Redis before falling back, in ms. Default 250. */
  timeoutMs?: number;
  /** How long the first connection may take, in ms. Default 2000. */
  connectTimeoutMs?: number;
  /** Decides while Redis does not answer. Default: a `MemoryRateLimiter` with the same policy. */
  fallback?: RateLimiter;
  /** Told once when Redis stops answering (again after each recovery). */
  onUnavailable?: (error: unknown) => void;
  /** Told when Redis answers again after an outage. */
  onRecovered?: () => void;
}

/**
 * KEYS[1]: the key's sorted set. ARGV: now (ms), window (ms), limit, a unique member for this
 * request, the key's time to live (ms). Returns {allowed, remaining, resetMs} as `decide()`
 * computes them: drop entries at or before now - window, admit when fewer than limit remain.
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  local remaining = limit - count - 1
  if remaining > 0 then return {1, remaining, 0} end
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, 0, tonumber(oldest[2]) + window - now}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
`;

/**
 * How long a key outlives its last admitted request beyond the window, in ms: instances whose
 * clocks lag the writer's by up to this much still see its entries.
 */
export const CLOCK_SLACK_MS = 1000;

type Scripted = Redis & {
  jwksRateLimit(key: string, now: number, window: number, limit: number, member: string, ttl: number): Promise<
    [number, number, number]
  >;
};

/** A {@linkcode RateLimiter} whose log lives in Redis, shared by every instance using it. */
export class RedisRateLimiter implements RateLimiter {
  readonly policy: RateLimit;
  /** Where the limits live, without any password. */
  readonly description: string;
  #client: Scripted;
  #prefix: string;
  #fallback: RateLimiter;
  #onUnavailable: (error: unknown) => void;
  #onRecovered: () => void;
  #down = false;
  #tag = crypto.randomUUID().slice(0, 8);
  #seq = 0;

  /** Use {@linkcode openRedisRateLimiter}. */
  constructor(client: Redis, policy: RateLimit, description: string, options: RedisRateLimiterOptions) {
    client.defineCommand("jwksRateLimit", { numberOfKeys: 1, lua: SCRIPT });
    this.#client = client as Scripted;
    this.policy = policy;
    this.description = description;
    this.#prefix = options.prefix ?? "jwks:rate:";
    this.#fallback = options.fallback ?? new MemoryRateLimiter(policy);
    this.#onUnavailable = options.onUnavailable ?? (() => {});
    this.#onRecovered = options.onRecovered ?? (() => {});
    // Without a listener, ioredis reports every failed reconnect on the console.
    client.on("error", (error) => this.#failed(error));
  }

  /** True while Redis does not answer and decisions come from the fallback. */
  get degraded(): boolean {
    return this.#down;
  }

  /** Marks Redis as down, reporting it once per outage. */
  #failed(error: unknown): void {
    if (this.#down) return;
    this.#down = true;
    this.#onUnavailable(error);
  }

  async check(key: string, now: number): Promise<RateDecision> {
    const { limit, windowMs } = this.policy;
    let reply: [number, number, number];
    try {
      reply = await this.#client.jwksRateLimit(
        this.#prefix + key,
        now,
        windowMs,
        limit,
        `${now}:${this.#tag}:${this.#seq++}`,
        windowMs + CLOCK_SLACK_MS,
      );
    } catch (error) {
      this.#failed(error);
      return await this.#fallback.check(key, now);
    }
    if (this.#down) {
      this.#down = false;
      this.#onRecovered();
    }
    const [allowed, remaining, resetMs] = reply;
    return { allowed: allowed === 1, limit, remaining: Number(remaining), resetMs: Number(resetMs) };
  }

  async close(): Promise<void> {
    if (this.#client.status === "end") return;
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }
}

/**
 * Connects to Redis at `url` (`redis://[:password@]host:port[/db][?prefix=p]`, or `rediss://`
 * for TLS) and returns a limiter for `policy`. An unreachable Redis does not fail the start:
 * the limiter begins degraded (reported through `onUnavailable`) and reconnects in the
 * background. Throws `invalid_config` only for a URL that cannot be parsed.
 */
export async function openRedisRateLimiter(
  url: string,
  policy: RateLimit,
  options: RedisRateLimiterOptions = {},
): Promise<RedisRateLimiter> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError("invalid_config", "The Redis URL cannot be parsed");
  }
  const prefix = options.prefix ?? parsed.searchParams.get("prefix") ?? undefined;
  parsed.searchParams.delete("prefix");
  const shown = new URL(parsed.href);
  shown.password = "";
  // Loaded only when a Redis store is configured (see the same note in postgres_store.ts).
  const { Redis: Client } = await import("ioredis");
  const client = new Client(parsed.href, {
    lazyConnect: true,
    // Fail fast instead of queueing: a check that cannot reach Redis falls back at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.timeoutMs ?? 250,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    connectionName: "jwks-server",
  });
  const limiter = new RedisRateLimiter(
    client,
    policy,
    shown.href,
    prefix === undefined ? options : { ...options, prefix },
  );
  // A failed first connection is reported through the error listener; ioredis keeps retrying.
  await client.connect().catch(() => {});
  return limiter;
}
