/**
 * The key policy: the few numbers a user sets (rotation interval, token lifetime, clock skew,
 * retention, algorithm) and the timings derived from them (JWKS max-age, the lead time a key is
 * published before it signs, the window it stays published after); and how a policy stored
 * with the keys compares with the configured one. Pure; validated once.
 * @module
 */
import { AppError } from "./errors.ts";
import type { Alg } from "./key_material.ts";
import { formatDuration } from "./units.ts";

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

/** The settings of a policy a user chooses; everything else is derived from them. */
export type PolicySettings = Pick<LifecyclePolicy, "rotationInterval" | "tokenTtl" | "clockSkew" | "retention" | "alg">;

/** The chosen settings, in the order messages list them. */
export const POLICY_SETTINGS: readonly (keyof PolicySettings)[] = Object.freeze([
  "rotationInterval",
  "tokenTtl",
  "clockSkew",
  "retention",
  "alg",
]);

/** One setting that differs between two policies. */
export interface PolicyChange {
  readonly setting: keyof PolicySettings;
  readonly from: number | Alg;
  readonly to: number | Alg;
}

/** The settings in which `to` differs from `from`, in {@linkcode POLICY_SETTINGS} order. */
export function policyChanges(from: PolicySettings, to: PolicySettings): PolicyChange[] {
  return POLICY_SETTINGS.filter((setting) => from[setting] !== to[setting])
    .map((setting) => ({ setting, from: from[setting], to: to[setting] }));
}

/** A setting's value as people write it: `2m`, `RS256`. */
export function policyValue(value: number | Alg): string {
  return typeof value === "number" ? formatDuration(value) : value;
}

/** The changes as one phrase: `rotation interval 24h → 2m, token TTL 15m → 60s`. */
export function describePolicyChanges(changes: readonly PolicyChange[]): string {
  const names: Record<keyof PolicySettings, string> = {
    rotationInterval: "rotation interval",
    tokenTtl: "token TTL",
    clockSkew: "clock skew",
    retention: "key retention",
    alg: "algorithm",
  };
  return changes.map((c) => `${names[c.setting]} ${policyValue(c.from)} → ${policyValue(c.to)}`).join(", ");
}

/** JWKS answers with a max-age of up to `maxAge` seconds may be cached until `until` (unix seconds). */
export interface JwksCache {
  readonly maxAge: number;
  readonly until: number;
}

/**
 * What verifiers may have cached after the policy changes from `previous` to `next` at `now`:
 * when the max-age shrinks, answers served before `now` live on under the old one. `earlier`
 * is what an earlier change left. Nothing (zeros) once every such answer has expired.
 */
export function cacheAfterChange(
  previous: PolicySettings | null,
  next: LifecyclePolicy,
  now: number,
  earlier: JwksCache = { maxAge: 0, until: 0 },
): JwksCache {
  const kept = earlier.until > now ? earlier : { maxAge: 0, until: 0 };
  const before = previous === null ? 0 : lifecyclePolicy(previous).maxAge;
  if (before <= next.maxAge) return kept;
  return { maxAge: Math.max(kept.maxAge, before), until: Math.max(kept.until, now + before) };
}
