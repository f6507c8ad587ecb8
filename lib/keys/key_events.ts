/**
 * What happens to a key set, as events for logs, metrics and command output: the shape of each
 * event, and the events between two versions of the stored keys (a change this process made,
 * or one it noticed another process make). Pure: records and times in, events out.
 * @module
 */
import type { KeyRecord } from "../core/key_lifecycle.ts";
import type { Alg } from "../core/key_material.ts";
import type { PolicyChange } from "../core/key_policy.ts";

/** Who made a change this process noticed, and why (absent for its own changes). */
export interface ChangeSource {
  /** The other process: `keys revoke (pid 4242 on build-1)`. */
  readonly by?: string;
  /** `maintain`, `rotate`, `revoke`, `import`, `policy` or `reseal`. */
  readonly reason?: string;
}

/** A lifecycle event, for logs and metrics. Times are unix seconds. */
export type KeyEvent =
  | ChangeSource & {
    readonly event: "key_created";
    readonly kid: string;
    readonly alg: Alg;
    readonly activatesAt: number;
    readonly exp: number;
  }
  | ChangeSource & {
    readonly event: "key_rescheduled";
    readonly kid: string;
    readonly activatesAt: number;
    readonly retiresAt: number;
    readonly exp: number;
  }
  | ChangeSource & { readonly event: "key_revoked"; readonly kid: string; readonly revokedAt: number }
  | ChangeSource & { readonly event: "key_purged"; readonly kid: string; readonly exp: number }
  | {
    readonly event: "key_activated";
    readonly kid: string;
    readonly alg: Alg;
    readonly activatedAt: number;
    readonly retiresAt: number;
  }
  | { readonly event: "key_retired"; readonly kid: string; readonly retiredAt: number; readonly exp: number }
  /** The stored policy changed to this process's settings; the keys were re-planned. */
  | { readonly event: "key_policy_changed"; readonly summary: string; readonly changes: readonly PolicyChange[] }
  /** Another process stored a policy other than this process's settings. */
  | ChangeSource & {
    readonly event: "key_policy_differs";
    readonly summary: string;
    readonly changes: readonly PolicyChange[];
  }
  /** Private keys were sealed again under another master secret. */
  | ChangeSource & { readonly event: "keys_resealed"; readonly count?: number };

/**
 * The events that turn `before` into `after` (two readings of the stored keys) at `now`: the
 * created keys, then the revoked or rescheduled ones, then the purged ones, each in row order.
 */
export function changesBetween(
  before: readonly KeyRecord[],
  after: readonly KeyRecord[],
  now: number,
): KeyEvent[] {
  const events: KeyEvent[] = [];
  const old = new Map(before.map((key) => [key.id, key]));
  const current = new Set(after.map((key) => key.id));
  for (const key of after) {
    if (!old.has(key.id)) {
      events.push({ event: "key_created", kid: key.kid, alg: key.alg, activatesAt: key.activatesAt, exp: key.exp });
    }
  }
  for (const key of after) {
    const was = old.get(key.id);
    if (was === undefined) continue;
    if (key.revokedAt !== null && was.revokedAt === null) {
      events.push({ event: "key_revoked", kid: key.kid, revokedAt: key.revokedAt });
    } else if (key.activatesAt !== was.activatesAt || key.retiresAt !== was.retiresAt || key.exp !== was.exp) {
      const { kid, activatesAt, retiresAt, exp } = key;
      events.push({ event: "key_rescheduled", kid, activatesAt, retiresAt, exp });
    }
  }
  for (const key of before) {
    if (current.has(key.id)) continue;
    // Revoked and purged at once (no retention): report both.
    if (key.revokedAt === null && key.exp > now) events.push({ event: "key_revoked", kid: key.kid, revokedAt: now });
    events.push({ event: "key_purged", kid: key.kid, exp: Math.min(key.exp, now) });
  }
  return events;
}

/** `events` marked as made by `source` (another process). */
export function madeBy(events: readonly KeyEvent[], source: Required<ChangeSource>): KeyEvent[] {
  return events.map((event) =>
    event.event === "key_activated" || event.event === "key_retired" || event.event === "key_policy_changed"
      ? event
      : { ...event, ...source }
  );
}
