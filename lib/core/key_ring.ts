/**
 * The in-memory view of the key set that requests read: signing keys imported once through an
 * injected `importSigner` (a signing backend; non-extractable WebCrypto keys by default) and
 * released when they leave the ring, and the JWKS body and its strong ETag serialized once per
 * key-set change. A stored public key must be the one derived from its sealed private key, and
 * every key must pass a sign-then-verify self-test before it may sign; a key that fails either,
 * or fails to sign later, never signs (the next key takes over) and is reported as a problem.
 * Nothing here touches storage; the owner feeds it records and a clock.
 * @module
 */
import { createHash } from "node:crypto";
import { boundPublicKey, sameRecord, watchedSigner } from "./key_binding.ts";
import { selfTest } from "./key_checks.ts";
import type { Sealer } from "./seal.ts";
import { type KeyRecord, keyState } from "./key_lifecycle.ts";
import type { Alg, PublicJwk } from "./key_material.ts";
import { type PrivateKeyParts, privateKeyParts } from "./private_key.ts";
import { importWebCryptoSigner } from "./signer.ts";
import type { ImportSigner, Signer } from "./signer.ts";

/** A key ready to sign. */
export interface SigningKey {
  /** The public kid (JWK thumbprint). */
  readonly kid: string;
  readonly alg: Alg;
  /** Signs with the private key, which only its backend holds. */
  readonly signer: Signer;
  /** End of the key's published life, unix seconds: no token may outlive it. */
  readonly exp: number;
  /** When the key was published, unix seconds. */
  readonly publishedAt: number;
  readonly activatesAt: number;
  readonly retiresAt: number;
}

/** The serialized JWKS, ready to send. */
export interface JwksDocument {
  readonly body: Uint8Array<ArrayBuffer>;
  /** Strong ETag, quotes included. */
  readonly etag: string;
  readonly keys: readonly PublicJwk[];
}

/** What the key set looks like at one instant; valid until `until`. */
export interface KeyView {
  readonly jwks: JwksDocument;
  /** The one key that signs now, or null when none does. */
  readonly active: SigningKey | null;
  /** The newest unrevoked expired key, for `?expired=true`, or null. */
  readonly expired: SigningKey | null;
  /** The published key that signs next, or null. */
  readonly next: SigningKey | null;
  /** Unix seconds at which this view stops being accurate. */
  readonly until: number;
  /** Unix seconds at which the published set last changed (a key published, expired or revoked). */
  readonly changedAt: number;
  /** Keys refused or failed (for `/readyz`): one line each, naming the kid, never key material. */
  readonly problems: readonly string[];
}

/** A stored key the ring will not use, and why. */
export interface RejectedKey {
  readonly kid: string;
  readonly reason: string;
}

interface Entry {
  readonly record: KeyRecord;
  readonly signer: SigningKey | null;
  /** Why the key is neither published nor used (its stored public half is not its own), or null. */
  readonly rejected: string | null;
}

/** Serializes `keys` as a JWKS body with a strong ETag derived from its bytes. */
export function jwksDocument(keys: readonly PublicJwk[]): JwksDocument {
  const body = new TextEncoder().encode(JSON.stringify({ keys }));
  const digest = createHash("sha256").update(body).digest("base64url").slice(0, 27);
  return Object.freeze({ body, etag: `"${digest}"`, keys: Object.freeze([...keys]) });
}

function sameKids(a: readonly PublicJwk[], b: readonly PublicJwk[]): boolean {
  return a.length === b.length && a.every((key, i) => key.kid === b[i]!.kid);
}

/** Options of {@linkcode KeyRing}. */
export interface KeyRingOptions {
  /** Turns an opened private JWK into a signer; default {@linkcode importWebCryptoSigner}. */
  importSigner?: ImportSigner;
  /** Told once about each stored key the ring refuses to publish or sign with. */
  onRejected?: (key: RejectedKey) => void;
  /** Told when a key that signed fails to sign; the next key signs from then on. */
  onSignerFailed?: (key: RejectedKey) => void;
}

/**
 * Holds the imported keys. `load()` brings in new records (importing only keys it has not seen),
 * `view(now)` answers from a cached view that is rebuilt only when `now` crosses a lifecycle
 * boundary or the records change.
 */
export class KeyRing {
  #sealer: Sealer;
  #importSigner: ImportSigner;
  #options: KeyRingOptions;
  #entries = new Map<number, Entry>();
  /** Keys that failed to sign while in use, by row id: never used again. */
  #failed = new Map<number, string>();
  #reported = new Set<string>();
  #view: KeyView | null = null;
  #lastJwks: JwksDocument | null = null;

  constructor(sealer: Sealer, options: KeyRingOptions = {}) {
    this.#sealer = sealer;
    this.#importSigner = options.importSigner ?? importWebCryptoSigner;
    this.#options = options;
  }

  /**
   * Replaces the known records with `records`, importing the private keys of those that are
   * published or may sign `?expired=true` tokens (each once) and releasing the keys that are
   * no longer needed. Throws when a needed key does not open; the ring is then left as it was.
   */
  async load(records: readonly KeyRecord[], now: number): Promise<void> {
    const entries = new Map<number, Entry>();
    const imported: Signer[] = [];
    const newestExpired = records
      .filter((record) => record.revokedAt === null && record.exp <= now)
      .reduce<KeyRecord | null>((best, record) => (best === null || record.exp >= best.exp ? record : best), null);
    try {
      for (const record of records) {
        const known = this.#entries.get(record.id);
        const needed = keyState(record, now) !== "expired" || record === newestExpired;
        const same = known !== undefined && sameRecord(known.record, record);
        let signer = needed && same ? known.signer : null;
        let rejected = needed && same ? known.rejected : null;
        if (needed && signer === null && rejected === null) {
          const outcome = await this.#import(record);
          if (typeof outcome === "string") {
            rejected = outcome;
            this.#report(record, outcome);
          } else {
            signer = outcome;
            imported.push(signer.signer);
          }
        }
        entries.set(record.id, {
          record,
          rejected,
          signer: signer === null
            ? null
            : { ...signer, exp: record.exp, activatesAt: record.activatesAt, retiresAt: record.retiresAt },
        });
      }
    } catch (error) {
      for (const signer of imported) signer.close?.();
      throw error;
    }
    const kept = new Set([...entries.values()].map((entry) => entry.signer?.signer));
    for (const { signer } of this.#entries.values()) {
      if (signer !== null && !kept.has(signer.signer)) signer.signer.close?.();
    }
    this.#entries = entries;
    this.#view = null;
  }

  /** Releases every key (native memory too); the ring is empty afterwards. */
  close(): void {
    for (const { signer } of this.#entries.values()) signer?.signer.close?.();
    this.#entries = new Map();
    this.#view = null;
  }

  #report(record: KeyRecord, reason: string): void {
    const key = `${record.id}|${record.kid}|${reason}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#options.onRejected?.({ kid: record.kid, reason });
  }

  /**
   * Opens and imports the key of `record` (throws when the blob does not open), or says why it
   * must not be used (see `boundPublicKey`, `selfTest`).
   */
  async #import(record: KeyRecord): Promise<SigningKey | string> {
    const plaintext = this.#sealer.open(record.id, record.blob);
    let key: PrivateKeyParts;
    try {
      // Straight from the sealed bytes to PKCS#8: no private member becomes a JS string.
      key = privateKeyParts(plaintext);
    } catch {
      return "its sealed private key is not a usable key";
    } finally {
      plaintext.fill(0);
    }
    let derived: PublicJwk | string;
    let signer: Signer;
    try {
      derived = await boundPublicKey(key.publicJwk, record);
      if (typeof derived === "string") return derived;
      signer = await this.#importSigner(key, record.alg);
    } catch (error) {
      return `it does not import: ${error instanceof Error ? error.message.slice(0, 120) : "unknown error"}`;
    } finally {
      key.pkcs8.fill(0);
    }
    try {
      await selfTest((data) => signer.sign(data), derived, record.alg);
    } catch (error) {
      signer.close?.();
      return `it failed the self-test: ${error instanceof Error ? error.message : "unknown error"}`;
    }
    const watched = watchedSigner(signer, (reason) => {
      if (this.#failed.has(record.id)) return;
      this.#failed.set(record.id, reason);
      this.#view = null;
      this.#options.onSignerFailed?.({ kid: record.kid, reason });
    });
    const { kid, alg, exp, createdAt: publishedAt, activatesAt, retiresAt } = record;
    return { kid, alg, signer: watched, exp, publishedAt, activatesAt, retiresAt };
  }

  /** The key set at `now` (unix seconds). Cheap: rebuilt only when something changed. */
  view(now: number): KeyView {
    const cached = this.#view;
    if (cached !== null && now < cached.until) return cached;
    return this.#view = this.#build(now);
  }

  #build(now: number): KeyView {
    const records = [...this.#entries.values()].sort((a, b) =>
      a.record.activatesAt - b.record.activatesAt || a.record.id - b.record.id
    );
    const published: PublicJwk[] = [];
    let active: SigningKey | null = null;
    let next: SigningKey | null = null;
    let expired: SigningKey | null = null;
    let until = Infinity;
    let changedAt = 0;
    const problems: string[] = [];
    let activeFailed = false;
    for (const { record, signer: imported, rejected } of records) {
      const failed = this.#failed.get(record.id);
      const state = keyState(record, now);
      if (rejected !== null) {
        problems.push(`key ${record.kid} is not published or used: ${rejected}`);
        activeFailed ||= state === "active";
        continue;
      }
      if (failed !== undefined && state !== "expired") problems.push(`key ${record.kid} failed to sign: ${failed}`);
      activeFailed ||= failed !== undefined && state === "active";
      const signer = failed === undefined ? imported : null;
      for (const t of [record.activatesAt, record.retiresAt, record.exp]) if (t > now && t < until) until = t;
      // The published set changes when a key is published and when it expires or is revoked.
      changedAt = Math.max(changedAt, state === "expired" ? Math.min(record.exp, now) : record.createdAt);
      if (state === "expired") {
        if (record.revokedAt === null && signer !== null && (expired === null || record.exp >= expired.exp)) {
          expired = signer;
        }
        continue;
      }
      published.push(record.publicJwk);
      if (state === "active") active ??= signer;
      if (state === "next") next ??= signer;
    }
    if (active === null && next !== null && activeFailed) {
      // The signing key was refused or failed: the published next key signs early rather than none.
      problems.push(`key ${next.kid} signs early in place of the unusable one`);
      active = next;
      next = null;
    }
    let jwks = this.#lastJwks;
    if (jwks === null || !sameKids(jwks.keys, published)) jwks = jwksDocument(published);
    this.#lastJwks = jwks;
    return Object.freeze({ jwks, active, expired, next, until, changedAt, problems: Object.freeze(problems) });
  }
}
