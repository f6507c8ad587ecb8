/**
 * The public schedule of the published keys, as the console draws it and `/console/keys.json`
 * serves it: for every key in the JWKS now, its state and when it was published, signs, stops
 * signing and leaves the JWKS. Built from the key view (what is published) and the stored
 * records (the times); public data only. Pure: time is a parameter.
 * @module
 */
import { createHash } from "node:crypto";
import { type KeyRecord, keyState } from "../core/key_lifecycle.ts";
import type { PublicJwk } from "../core/key_material.ts";

/** The states a published key can be in (expired and revoked keys are not published). */
export type PublishedState = "next" | "active" | "retired";

/** One published key. Times are unix seconds. */
export interface ScheduledKey {
  readonly kid: string;
  readonly alg: string;
  readonly state: PublishedState;
  readonly publishedAt: number;
  readonly activatesAt: number;
  readonly retiresAt: number;
  /** When the key leaves the JWKS. */
  readonly exp: number;
}

/** The published keys at one instant, with a weak ETag over them. */
export interface KeySchedule {
  /** In signing order, oldest first. */
  readonly keys: readonly ScheduledKey[];
  /** Weak ETag (`W/"…"`): changes whenever a key, a time or a state changes, never with `now` alone. */
  readonly etag: string;
  /** `keys` serialized once, for the JSON endpoint. */
  readonly keysJson: string;
}

/**
 * The schedule of the keys `published` (the JWKS of the key view) at `now`, with times from
 * `records`. A published kid without a live record (the store moved on since the view was
 * built) is left out; the next view brings the two together again.
 */
export function keySchedule(
  published: readonly Pick<PublicJwk, "kid">[],
  records: readonly KeyRecord[],
  now: number,
): KeySchedule {
  const kids = new Set(published.map((key) => key.kid));
  const keys: ScheduledKey[] = [];
  const ordered = records.toSorted((a, b) => a.activatesAt - b.activatesAt || a.id - b.id);
  for (const record of ordered) {
    if (!kids.has(record.kid)) continue;
    const state = keyState(record, now);
    if (state === "expired") continue;
    keys.push(Object.freeze({
      kid: record.kid,
      alg: record.alg,
      state,
      publishedAt: record.createdAt,
      activatesAt: record.activatesAt,
      retiresAt: record.retiresAt,
      exp: record.exp,
    }));
  }
  const keysJson = JSON.stringify(keys);
  const digest = createHash("sha256").update(keysJson).digest("base64url").slice(0, 22);
  return Object.freeze({ keys: Object.freeze(keys), etag: `W/"${digest}"`, keysJson });
}

/**
 * True when an `If-None-Match` header value matches `etag`, by the weak comparison RFC 9110
 * §13.1.2 prescribes for it (`W/` prefixes ignored; `*` matches anything).
 */
export function etagMatches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  const opaque = etag.replace(/^W\//, "");
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag.replace(/^W\//, "") === opaque;
  });
}
