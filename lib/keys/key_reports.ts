/**
 * Key administration shared by the command line (`keys list|rotate|revoke|import`) and the
 * admin API: what each stored key is doing at an instant, as plain data both can print, and
 * the lifecycle intents applied through a `KeyManager`. Holds no state; time is a parameter.
 * @module
 */
import type { KeyEvent } from "./key_events.ts";
import type { ApplyResult, KeyManager } from "./key_manager.ts";
import { type KeyIntent, type KeyRecord, keyState } from "../core/key_lifecycle.ts";
import type { Alg } from "../core/key_material.ts";
import type { KeyStore } from "../store/ports.ts";

/** Where a key is in its life, with revoked keys told apart from expired ones. */
export type KeyStatus = "next" | "active" | "retired" | "expired" | "revoked";

/** One stored key, as `keys list --json` and `GET /admin/keys` show it. Times are ISO 8601 UTC. */
export interface KeyInfo {
  /** The public kid (RFC 7638 thumbprint). */
  readonly kid: string;
  readonly alg: Alg;
  readonly status: KeyStatus;
  /** Whether the key is in the JWKS now. */
  readonly published: boolean;
  readonly createdAt: string;
  /**
   * When it signs (or signed) tokens, or null when it never did: revoked before its turn, or
   * made only to sign `?expired=true` tokens.
   */
  readonly activatesAt: string | null;
  readonly retiresAt: string | null;
  /** End of the key's published life (`keys.exp`). */
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  /** The row id (`keys.kid` in the database). */
  readonly row: number;
}

/** The outcome of a key command: what changed and the key set afterwards. */
export interface KeyReport {
  readonly changes: readonly KeyEvent[];
  readonly keys: readonly KeyInfo[];
}

/** Unix seconds as ISO 8601 UTC without milliseconds. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * True when `record` never signed an ordinary token: revoked before its turn (revoking moves a
 * waiting key's schedule to the instant of the revocation) or born expired, for `?expired=true`.
 */
export function neverSigned(record: KeyRecord): boolean {
  return (record.revokedAt !== null && record.activatesAt >= record.revokedAt) || record.exp <= record.createdAt;
}

/** Describes `record` at `now` (unix seconds). */
export function keyInfo(record: KeyRecord, now: number): KeyInfo {
  const state = keyState(record, now);
  const never = neverSigned(record);
  return Object.freeze({
    kid: record.kid,
    alg: record.alg,
    status: record.revokedAt !== null ? "revoked" : state,
    published: state !== "expired",
    createdAt: isoSeconds(record.createdAt),
    activatesAt: never ? null : isoSeconds(record.activatesAt),
    retiresAt: never ? null : isoSeconds(record.retiresAt),
    expiresAt: isoSeconds(record.exp),
    revokedAt: record.revokedAt === null ? null : isoSeconds(record.revokedAt),
    row: record.id,
  });
}

/** Every stored key at `now` (unix seconds), in the order it signs (oldest first). */
export async function listKeyInfo(store: Pick<KeyStore, "listKeys">, now: number): Promise<KeyInfo[]> {
  const records = await store.listKeys();
  return records
    .toSorted((a, b) => a.activatesAt - b.activatesAt || a.id - b.id)
    .map((record) => keyInfo(record, now));
}

/** The report of an applied intent: the changes it made and the keys afterwards. */
export async function keyReport(
  result: ApplyResult,
  store: Pick<KeyStore, "listKeys">,
  now: number,
): Promise<KeyReport> {
  return { changes: result.events, keys: await listKeyInfo(store, now) };
}

/**
 * Applies a key change (`rotate`: the active key retires as soon as its successor may sign;
 * `revoke`: the key leaves the JWKS at once and, if it signed, its successor signs; `import`:
 * the key is published as the next to sign, `conflict` when its kid exists) and reports it.
 */
export async function changeKeys(
  manager: KeyManager,
  store: Pick<KeyStore, "listKeys">,
  intent: Extract<KeyIntent, { kind: "rotate" | "revoke" | "import" }>,
): Promise<KeyReport> {
  return await keyReport(await manager.apply(intent), store, manager.now());
}

/** One line describing a lifecycle change, for people. */
export function describeChange(change: KeyEvent): string {
  switch (change.event) {
    case "key_created":
      return `Published ${change.kid} (${change.alg}): signs from ${isoSeconds(change.activatesAt)}, ` +
        `leaves the JWKS at ${isoSeconds(change.exp)}`;
    case "key_rescheduled":
      return `Rescheduled ${change.kid}: signs ${isoSeconds(change.activatesAt)} to ${isoSeconds(change.retiresAt)}, ` +
        `leaves the JWKS at ${isoSeconds(change.exp)}`;
    case "key_revoked":
      return `Revoked ${change.kid}: removed from the JWKS`;
    case "key_purged":
      return `Purged ${change.kid}`;
    case "key_activated":
      return `Activated ${change.kid}`;
    case "key_retired":
      return `Retired ${change.kid}`;
    case "key_policy_changed":
      return `Key policy changed: ${change.summary}; the keys were re-planned`;
    case "key_policy_differs":
      return `The stored key policy differs from this process's settings: ${change.summary}`;
    case "keys_resealed":
      return `Re-sealed ${change.count ?? "every"} private key blobs under the new master secret`;
  }
}
