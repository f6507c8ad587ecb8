/**
 * The key lifecycle planner: a pure function of (keys, now, policy, intent) returning the changes
 * to make, so a store runs it inside its own exclusive transaction, testable at any clock value.
 *
 * One rule drives the whole lifecycle `next → active → retired → expired → purged`:
 * - a key is published when created and may start signing only `lead = maxAge + 30 s` later;
 * - the unexpired, unrevoked, not-yet-retired keys form a chain ordered by activation, where each
 *   key retires exactly when its successor activates, so exactly one key signs at a time;
 * - a key stays published `window = tokenTtl + clockSkew + maxAge` after it retires: that
 *   instant is its `exp` (the `keys.exp` column);
 * - expired keys are never published; the newest unrevoked one is kept to sign `?expired=true`
 *   tokens and the others are purged `retention` seconds after they expire.
 *
 * A change of the configured algorithm withdraws the waiting keys of the old one (never used to
 * sign) and publishes a key of the new one, which takes over after the lead time. A change of
 * the other settings is a `replan`: the schedule is computed afresh under the new policy.
 * @module
 */
import { AppError } from "./errors.ts";
import type { Alg, KeyMaterial, PublicJwk } from "./key_material.ts";
import type { JwksCache, LifecyclePolicy } from "./key_policy.ts";

/** A key as the store holds it. Times are unix seconds. */
export interface KeyRecord {
  /** `keys.kid`: the row id, bound into the sealed blob. */
  readonly id: number;
  /** The sealed private key (`keys.key`). */
  readonly blob: Uint8Array;
  /** End of published life (`keys.exp`). */
  readonly exp: number;
  /** The public kid: RFC 7638 SHA-256 thumbprint of the public key. */
  readonly kid: string;
  readonly alg: Alg;
  readonly publicJwk: PublicJwk;
  /** When the key was published. */
  readonly createdAt: number;
  /** When the key starts signing. */
  readonly activatesAt: number;
  /** When the key stops signing. */
  readonly retiresAt: number;
  /** When the key was revoked, or null. */
  readonly revokedAt: number | null;
}

/** Where a key is in its life at a given instant. */
export type KeyState = "next" | "active" | "retired" | "expired";

/** The state of `key` at `now` (unix seconds). */
export function keyState(key: KeyRecord, now: number): KeyState {
  if (key.exp <= now || key.revokedAt !== null) return "expired";
  if (now < key.activatesAt) return "next";
  if (now < key.retiresAt) return "active";
  return "retired";
}

/** What a planning run is asked to do beyond keeping the lifecycle going. */
export type KeyIntent =
  | { readonly kind: "maintain" }
  /** Retire the active key at the earliest safe moment and publish a fresh next key. */
  | { readonly kind: "rotate" }
  /** Take the key with this public kid out of the JWKS now; if it signs, its successor takes over. */
  | { readonly kind: "revoke"; readonly kid: string }
  /** Publish an imported key as the next key to sign. */
  | { readonly kind: "import"; readonly material: KeyMaterial }
  /**
   * The policy changed: the active key hands over at its activation plus the new interval (as
   * soon as its successor has been published for the lead time, never earlier), and the keys
   * that have not signed yet get the new interval. Retired keys keep their schedule.
   */
  | { readonly kind: "replan" };

/** Options of {@linkcode planKeys}. */
export interface PlanOptions {
  /** JWKS copies of an earlier, longer max-age verifiers may hold: no key signs before they expire. */
  readonly cache?: JwksCache;
}

/** Times of a key to create; the planner's caller supplies the key material. */
export interface PlannedInsert {
  /** Where this key's material comes from: the imported key, or the n-th freshly generated key. */
  readonly source: "import" | number;
  readonly createdAt: number;
  readonly activatesAt: number;
  readonly retiresAt: number;
  readonly exp: number;
}

/** New times for an existing key. */
export interface PlannedUpdate {
  readonly id: number;
  readonly activatesAt: number;
  readonly retiresAt: number;
  readonly exp: number;
  readonly revokedAt: number | null;
}

/** The changes one planning run asks for. Empty arrays everywhere: nothing to do. */
export interface KeyPlan {
  readonly inserts: readonly PlannedInsert[];
  readonly updates: readonly PlannedUpdate[];
  /** Row ids to purge. */
  readonly deletes: readonly number[];
  /** How many freshly generated keys the inserts need. */
  readonly generated: number;
}

/** True when `plan` changes nothing. */
export function isEmptyPlan(plan: KeyPlan): boolean {
  return plan.inserts.length === 0 && plan.updates.length === 0 && plan.deletes.length === 0;
}

/** Takes a key out of the JWKS and out of the signing chain at `now` (revocation). */
function withdraw(slot: Slot, now: number): void {
  slot.revokedAt = now;
  slot.exp = Math.min(slot.exp, now);
  slot.retiresAt = Math.min(slot.retiresAt, now);
  slot.activatesAt = Math.min(slot.activatesAt, now);
}

interface Slot {
  id: number | null;
  source: PlannedInsert["source"] | null;
  createdAt: number;
  activatesAt: number;
  retiresAt: number;
  exp: number;
  revokedAt: number | null;
  /** When this key would like to hand over to its successor. */
  wantsRetireAt: number;
  alg: Alg;
  /** The stored schedule of a key that has already signed: tokens out there depend on it. */
  signed: { readonly retiresAt: number; readonly exp: number } | null;
}

/**
 * Plans the key changes due at `now` (unix seconds) for `keys`. Pure, and converging: applying
 * the plan and planning again at the same instant or later, before the next key is due, yields
 * an empty plan (`rotate`, `revoke` and `import` act once per call). Throws `not_found` when
 * revoking an unknown kid and `conflict` when importing a kid that already exists.
 */
export function planKeys(
  keys: readonly KeyRecord[],
  now: number,
  policy: LifecyclePolicy,
  intent: KeyIntent = { kind: "maintain" },
  options: PlanOptions = {},
): KeyPlan {
  const { rotationInterval, lead, window } = policy;
  const cache = options.cache ?? { maxAge: 0, until: 0 };
  // A key may sign once every cached JWKS without it has expired: those served since it was
  // published say max-age (the lead), older ones may say the earlier, longer max-age.
  const earliest = (slot: Slot) =>
    Math.max(slot.createdAt + lead, Math.min(slot.createdAt + cache.maxAge, cache.until) + 30);
  const slots: Slot[] = keys.map((key) => ({
    id: key.id,
    source: null,
    createdAt: key.createdAt,
    activatesAt: key.activatesAt,
    retiresAt: key.retiresAt,
    exp: key.exp,
    revokedAt: key.revokedAt,
    wantsRetireAt: key.retiresAt,
    alg: key.alg,
    signed: key.activatesAt <= now && key.revokedAt === null ? { retiresAt: key.retiresAt, exp: key.exp } : null,
  }));
  const created: Slot[] = [];
  let generated = 0;
  const create = (activatesAt: number, source: Slot["source"] = generated++): Slot => {
    const slot: Slot = {
      id: null,
      source,
      createdAt: now,
      activatesAt,
      retiresAt: activatesAt + rotationInterval,
      exp: activatesAt + rotationInterval + window,
      revokedAt: null,
      wantsRetireAt: activatesAt + rotationInterval,
      alg: source === "import" && intent.kind === "import" ? intent.material.alg : policy.alg,
      signed: null,
    };
    created.push(slot);
    return slot;
  };

  if (intent.kind === "revoke") {
    const target = slots[keys.findIndex((key) => key.kid === intent.kid)];
    if (target === undefined) throw new AppError("not_found", `No key with kid "${intent.kid}"`);
    if (target.revokedAt === null) withdraw(target, now);
  }
  if (intent.kind === "import" && keys.some((key) => key.kid === intent.material.kid)) {
    throw new AppError("conflict", `A key with kid "${intent.material.kid}" already exists`);
  }

  // The chain: keys that sign now or will, in order. Each retires when its successor activates.
  const chain = slots
    .filter((slot) => slot.revokedAt === null && slot.exp > now && slot.retiresAt > now)
    .sort((a, b) => a.activatesAt - b.activatesAt || a.id! - b.id!);
  const head = chain[0];
  if (head === undefined) {
    // Nothing signs: first start, or a downtime longer than a whole interval.
    chain.push(create(now));
  } else if (head.activatesAt > now) {
    // The signing key was revoked: its successor takes over at once, lead time or not.
    head.activatesAt = now;
    head.wantsRetireAt = now + rotationInterval;
  }
  const active = chain[0]!;
  if (intent.kind === "rotate") active.wantsRetireAt = now;
  if (intent.kind === "replan") {
    for (const slot of chain) slot.wantsRetireAt = slot.activatesAt + rotationInterval;
  }
  // A change of algorithm (`--alg`): when no key waiting to sign uses the configured algorithm,
  // the waiting keys (published, never used) are withdrawn and a key of the new algorithm
  // follows the active one; if the active key is of another algorithm too, it hands over at the
  // earliest safe moment, as with `rotate`.
  const waiting = chain.filter((slot) => slot.activatesAt > now);
  const algChanged = intent.kind !== "import" && waiting.length > 0 &&
    !waiting.some((slot) => slot.alg === policy.alg);
  if (algChanged) {
    for (const slot of waiting) withdraw(slot, now);
    chain.splice(chain.length - waiting.length);
    if (active.alg !== policy.alg) active.wantsRetireAt = now;
  }
  if (intent.kind === "import") chain.splice(1, 0, create(now, "import"));
  // The chain always ends with a published key that does not sign yet, and that key's successor
  // is published a lead time before it starts signing, so there is a next key at every instant
  // (a maintenance run every few seconds suffices). Rotating adds a new key; so does a re-plan
  // that brought the last key's turn within the lead time.
  const pushed = chain[chain.length - 1]!.activatesAt <= now + lead || intent.kind === "rotate" || algChanged;
  if (pushed) chain.push(create(now));
  // Each key starts when its predecessor wants to hand over, but never before it has been
  // published for the lead time, never in the past, and strictly after its predecessor.
  const link = () => {
    for (let i = 1; i < chain.length; i++) {
      const prev = chain[i - 1]!;
      const slot = chain[i]!;
      const start = Math.max(prev.wantsRetireAt, earliest(slot), now, prev.activatesAt + 1);
      if (slot.activatesAt !== start) [slot.activatesAt, slot.wantsRetireAt] = [start, start + rotationInterval];
      prev.retiresAt = start;
    }
  };
  link();
  // An overdue key starts a lead time from now, so its successor is due at once: publish it too,
  // so planning again finds nothing (an interval exceeds the lead: one more key at most).
  const due = () => chain[chain.length - 1]!.activatesAt <= now + lead;
  for (let more = 0; more < 2 && due(); more++) (chain.push(create(now)), link());
  const tail = chain[chain.length - 1]!;
  tail.retiresAt = tail.wantsRetireAt;
  for (const slot of chain) {
    slot.exp = slot.retiresAt + window;
    // A key that has signed must stay published until the tokens it signed expire, even when a
    // restart brought a shorter token lifetime (a smaller window). Its stored exp covers them;
    // when its retirement moves earlier (rotate), tokens signed until now need at most the
    // window the stored schedule was made with.
    const signed = slot.signed;
    if (signed !== null) {
      const floor = slot.retiresAt === signed.retiresAt
        ? signed.exp
        : Math.min(signed.exp, now + signed.exp - signed.retiresAt);
      slot.exp = Math.max(slot.exp, floor);
    }
  }

  // Keep the newest unrevoked expired key to sign `?expired=true`; purge older expired keys.
  const kept = slots
    .filter((slot) => slot.exp <= now && slot.revokedAt === null)
    .sort((a, b) => b.exp - a.exp || b.id! - a.id!)[0];
  if (kept === undefined) {
    const spare = create(now);
    spare.createdAt =
      spare.activatesAt =
      spare.retiresAt =
      spare.exp =
        now - 1;
  }
  const deletes = slots
    .filter((slot) => slot !== kept && slot.exp + policy.retention <= now && slot.exp <= now)
    .map((slot) => slot.id!);

  const updates: PlannedUpdate[] = [];
  slots.forEach((slot, index) => {
    const before = keys[index]!;
    if (deletes.includes(before.id)) return;
    if (
      before.activatesAt !== slot.activatesAt || before.retiresAt !== slot.retiresAt ||
      before.exp !== slot.exp || before.revokedAt !== slot.revokedAt
    ) {
      const { activatesAt, retiresAt, exp, revokedAt } = slot;
      updates.push({ id: before.id, activatesAt, retiresAt, exp, revokedAt });
    }
  });
  const inserts = created.map(({ source, createdAt, activatesAt, retiresAt, exp }) => ({
    source: source!,
    createdAt,
    activatesAt,
    retiresAt,
    exp,
  }));
  return { inserts, updates, deletes, generated };
}
