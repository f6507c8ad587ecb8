/**
 * The key policy: the few numbers a user sets (rotation interval, token lifetime, clock skew,
 * retention, algorithm) and the timings derived from them (JWKS max-age, the lead time a key is
 * published before it signs, the window it stays published after). Pure; validated once.
 * @module
 */
import { AppError } from "./errors.ts";
import type { Alg } from "./key_material.ts";

/** Lifecycle timing, in seconds. Build it with {@linkcode lifecyclePolicy}. */
export interface LifecyclePolicy {
  /** How long each key signs before its successor takes over. */
  readonly rotationInterval: number;
  /** Lifetime of issued tokens. */
  readonly tokenTtl: number;
  /** Clock skew tolerated between us and verifiers. */
  readonly clockSkew: number;
  /** `Cache-Control: max-age` of the JWKS. */
  readonly maxAge: number;
  /** Minimum time a key is published before it signs: `maxAge + 30`. */
  readonly lead: number;
  /** How long a key stays published after it retires: `tokenTtl + clockSkew + maxAge`. */
  readonly window: number;
  /** How long an expired key is kept before it is purged (the newest one is always kept). */
  readonly retention: number;
  /** Algorithm of newly generated keys. */
  readonly alg: Alg;
}

/** Shortest rotation interval accepted, in seconds. */
export const MIN_ROTATION_INTERVAL = 60;
/** Longest JWKS max-age, in seconds. */
export const MAX_JWKS_MAX_AGE = 300;

/**
 * Derives the whole policy from the few numbers a user sets. The JWKS max-age is a quarter of
 * the rotation interval, at most 5 minutes, so the lead time always fits inside one interval.
 *
 * Defaults: rotation every 24 h, tokens valid 15 min, 60 s clock skew, 7 days retention, RS256.
 */
export function lifecyclePolicy(
  options: Partial<Pick<LifecyclePolicy, "rotationInterval" | "tokenTtl" | "clockSkew" | "retention" | "alg">> = {},
): LifecyclePolicy {
  const rotationInterval = options.rotationInterval ?? 86_400;
  const tokenTtl = options.tokenTtl ?? 900;
  const clockSkew = options.clockSkew ?? 60;
  const retention = options.retention ?? 7 * 86_400;
  if (!(rotationInterval >= MIN_ROTATION_INTERVAL)) {
    throw new AppError("invalid_config", `Rotation interval must be at least ${MIN_ROTATION_INTERVAL} seconds`);
  }
  if (!(tokenTtl >= 1)) throw new AppError("invalid_config", "Token TTL must be at least 1 second");
  if (!(clockSkew >= 0)) throw new AppError("invalid_config", "Clock skew must not be negative");
  if (!(retention >= 0)) throw new AppError("invalid_config", "Key retention must not be negative");
  const maxAge = Math.min(MAX_JWKS_MAX_AGE, Math.floor(rotationInterval / 4));
  return Object.freeze({
    rotationInterval,
    tokenTtl,
    clockSkew,
    maxAge,
    lead: maxAge + 30,
    window: tokenTtl + clockSkew + maxAge,
    retention,
    alg: options.alg ?? "RS256",
  });
}
