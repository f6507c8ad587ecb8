/**
 * The in-memory view of the key set that requests read: signing keys imported once through an
 * injected `importSigner` (a signing backend; non-extractable WebCrypto keys by default) and
 * released when they leave the ring, and the JWKS body and its strong ETag serialized once per
 * key-set change. Nothing here touches storage; the owner feeds it records and a clock.
 * @module
 */
import { createHash } from "node:crypto";
import type { Sealer } from "./seal.ts";
import { type KeyRecord, keyState } from "./key_lifecycle.ts";
import type { Alg, PublicJwk } from "./key_material.ts";
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
}

interface Entry {
  readonly record: KeyRecord;
  readonly signer: SigningKey | null;
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
}

/**
 * Holds the imported keys. `load()` brings in new records (importing only keys it has not seen),
 * `view(now)` answers from a cached view that is rebuilt only when `now` crosses a lifecycle
 * boundary or the records change.
 */
export class KeyRing {
  #sealer: Sealer;
  #importSigner: ImportSigner;
  #entries = new Map<number, Entry>();
  #view: KeyView | null = null;
  #lastJwks: JwksDocument | null = null;

  constructor(sealer: Sealer, options: KeyRingOptions = {}) {
    this.#sealer = sealer;
    this.#importSigner = options.importSigner ?? importWebCryptoSigner;
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
        let signer = needed && known !== undefined && known.record.kid === record.kid ? known.signer : null;
        if (needed && signer === null) {
          signer = await this.#import(record);
          imported.push(signer.signer);
        }
        entries.set(record.id, {
          record,
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

  async #import(record: KeyRecord): Promise<SigningKey> {
    const plaintext = this.#sealer.open(record.id, record.blob);
    let jwk;
    try {
      jwk = JSON.parse(new TextDecoder().decode(plaintext));
    } finally {
      plaintext.fill(0);
    }
    return {
      kid: record.kid,
      alg: record.alg,
      signer: await this.#importSigner(jwk, record.alg),
      exp: record.exp,
      publishedAt: record.createdAt,
      activatesAt: record.activatesAt,
      retiresAt: record.retiresAt,
    };
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
    for (const { record, signer } of records) {
      const state = keyState(record, now);
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
    let jwks = this.#lastJwks;
    if (jwks === null || !sameKids(jwks.keys, published)) jwks = jwksDocument(published);
    this.#lastJwks = jwks;
    return Object.freeze({ jwks, active, expired, next, until, changedAt });
  }
}
