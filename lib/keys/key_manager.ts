/**
 * Runs the key lifecycle against a store: plans with `planKeys`, generates the key material the
 * plan needs outside the transaction, re-plans and applies inside the store's exclusive
 * transaction (so two processes sharing one database never both act), and keeps a `KeyRing`
 * in step with the stored keys. The server's policy is stored with the keys (`adopt`); changes
 * other processes make are reported with who made them and why. Time comes from a clock.
 * @module
 */
import type { Sealer } from "../core/seal.ts";
import { AppError } from "../core/errors.ts";
import { KeyRing, type KeyView } from "../core/key_ring.ts";
import { isEmptyPlan, type KeyIntent, type KeyRecord, planKeys } from "../core/key_lifecycle.ts";
import {
  cacheAfterChange,
  describePolicyChanges,
  type JwksCache,
  type LifecyclePolicy,
  type PolicyChange,
  policyChanges,
} from "../core/key_policy.ts";
import { type Alg, generateKeyMaterial, type KeyMaterial } from "../core/key_material.ts";
import type { KeyInsert, KeyStore, Reseal, StoredPolicy } from "../store/ports.ts";
import type { ImportSigner } from "../core/signer.ts";
import { changesBetween, type KeyEvent, madeBy } from "./key_events.ts";

/** Options of {@linkcode KeyManager}. */
export interface KeyManagerOptions {
  store: KeyStore;
  sealer: Sealer;
  /** The policy this manager plans with. */
  policy: LifecyclePolicy;
  /** Unix milliseconds now. */
  clock: () => number;
  /** Makes new key material; defaults to {@linkcode generateKeyMaterial}. */
  generate?: (alg: Alg) => Promise<KeyMaterial>;
  /** Told about every lifecycle event. */
  onEvent?: (event: KeyEvent) => void;
  /** Imports private keys for signing; default non-extractable WebCrypto keys. */
  importSigner?: ImportSigner;
  /** This process, in the note stored with each change it makes. Default `pid N`. */
  origin?: string;
  /**
   * Told about a stored key that is not published or used (its public half is not its own, or
   * it fails its self-test: `key_rejected`), and about a key that failed to sign (`key_failed`).
   */
  onKeyError?: (
    event: { readonly event: "key_rejected" | "key_failed"; readonly kid: string; readonly reason: string },
  ) => void;
}

/** What one {@linkcode KeyManager.apply} did. */
export interface ApplyResult {
  readonly changed: boolean;
  readonly events: readonly KeyEvent[];
}

class NeedMoreKeys extends Error {}

/** Seconds since the epoch at clock reading `ms`. */
export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** The JWKS cache a stored policy records. */
function cacheOf(stored: StoredPolicy | null): JwksCache {
  return stored === null ? { maxAge: 0, until: 0 } : { maxAge: stored.cachedMaxAge, until: stored.cachedUntil };
}

/** Keeps the keys of one store alive and the in-memory ring in step with them. */
export class KeyManager {
  readonly ring: KeyRing;
  readonly policy: LifecyclePolicy;
  #store: KeyStore;
  #sealer: Sealer;
  #clock: () => number;
  #generate: (alg: Alg) => Promise<KeyMaterial>;
  #onEvent: (event: KeyEvent) => void;
  #origin: string;
  #version = Number.NaN;
  #records: readonly KeyRecord[] = [];
  /** Keys versions this manager made, so that reloading after them reports nothing. */
  #mine = new Set<number>();
  #cache: JwksCache = { maxAge: 0, until: 0 };
  #lastView: KeyView | null = null;
  #syncing: Promise<boolean> | null = null;

  constructor(options: KeyManagerOptions) {
    this.#store = options.store;
    this.#sealer = options.sealer;
    this.policy = options.policy;
    this.#clock = options.clock;
    this.#generate = options.generate ?? generateKeyMaterial;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#origin = options.origin ?? "unknown process";
    const onKeyError = options.onKeyError ?? (() => {});
    this.ring = new KeyRing(options.sealer, {
      ...(options.importSigner ? { importSigner: options.importSigner } : {}),
      onRejected: (key) => onKeyError({ event: "key_rejected", ...key }),
      onSignerFailed: (key) => onKeyError({ event: "key_failed", ...key }),
    });
  }

  /** Now, in unix seconds, from the injected clock. */
  now(): number {
    return toSeconds(this.#clock());
  }

  /** The key set now. Emits `key_activated`/`key_retired` when the signing key changed. */
  view(): KeyView {
    const view = this.ring.view(this.now());
    const last = this.#lastView;
    if (view !== last) {
      this.#lastView = view;
      if (last !== null && last.active?.kid !== view.active?.kid) {
        const { active } = view;
        if (last.active !== null) {
          // A revoked key retires before its planned time: now.
          const { kid, exp } = last.active;
          this.#onEvent({ event: "key_retired", kid, retiredAt: Math.min(last.active.retiresAt, this.now()), exp });
        }
        if (active !== null) {
          const { kid, alg, activatesAt, retiresAt } = active;
          this.#onEvent({ event: "key_activated", kid, alg, activatedAt: activatesAt, retiresAt });
        }
      }
    }
    return view;
  }

  /**
   * Plans `intent` at the current time and applies it in one exclusive transaction, then
   * reloads the ring. Safe to call from several processes at once: the plan is recomputed on
   * the rows the transaction sees, so a step already taken elsewhere is not taken twice.
   * `via` names the way in (`admin API`) in the note stored with the change.
   */
  apply(intent: KeyIntent = { kind: "maintain" }, options: { via?: string } = {}): Promise<ApplyResult> {
    return this.#apply(intent, false, options.via);
  }

  /**
   * The server's first step: makes this manager's policy the one stored with the keys. When
   * the stored one differs (or none was stored), the keys are re-planned under this policy
   * in the same transaction and `key_policy_changed` says what changed.
   */
  adopt(): Promise<ApplyResult> {
    return this.#apply({ kind: "maintain" }, true);
  }

  async #apply(intent: KeyIntent, adopt: boolean, via?: string): Promise<ApplyResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.now();
      const listed = await this.#store.listKeys();
      const stored = adopt ? await this.#store.keyPolicy() : null;
      const adopting = adopt && (stored === null || policyChanges(stored, this.policy).length > 0);
      const preview = planKeys(listed, now, this.policy, adopting && listed.length > 0 ? { kind: "replan" } : intent, {
        cache: this.#cache,
      });
      if (isEmptyPlan(preview) && !adopting) {
        await this.sync();
        return { changed: false, events: [] };
      }
      const pool = await Promise.all(Array.from({ length: preview.generated }, () => this.#generate(this.policy.alg)));
      let before: readonly KeyRecord[] = [];
      let changes: PolicyChange[] = [];
      try {
        const applied = await this.#store.updateKeys((keys, storedNow) => {
          before = keys;
          let cache = cacheOf(storedNow);
          let policy: StoredPolicy | undefined;
          let planned = intent;
          changes = [];
          if (adopt && (storedNow === null || policyChanges(storedNow, this.policy).length > 0)) {
            changes = storedNow === null ? [] : policyChanges(storedNow, this.policy);
            cache = cacheAfterChange(storedNow, this.policy, now, cache);
            const { rotationInterval, tokenTtl, clockSkew, retention, alg } = this.policy;
            policy = {
              ...{ rotationInterval, tokenTtl, clockSkew, retention, alg },
              ...{ cachedMaxAge: cache.maxAge, cachedUntil: cache.until, updatedAt: now },
            };
            if (keys.length > 0) planned = { kind: "replan" };
          }
          this.#cache = cache;
          const plan = planKeys(keys, now, this.policy, planned, { cache });
          if (plan.generated > pool.length) throw new NeedMoreKeys();
          const inserts = plan.inserts.map((insert): KeyInsert => {
            const material = insert.source === "import"
              ? (intent as { material: KeyMaterial }).material
              : pool[insert.source]!;
            const { kid, alg, publicJwk, privateBytes } = material;
            return {
              ...{ kid, alg, publicJwk, createdAt: insert.createdAt, activatesAt: insert.activatesAt },
              ...{ retiresAt: insert.retiresAt, exp: insert.exp },
              seal: (id) => this.#sealer.seal(id, privateBytes),
            };
          });
          const origin = via === undefined ? this.#origin : `${this.#origin} via ${via}`;
          const reason = planned.kind === "replan" ? "policy" : planned.kind;
          const { updates, deletes } = plan;
          return { inserts, updates, deletes, ...(policy ? { policy } : {}), note: { origin, reason, at: now } };
        });
        const events = changesBetween(before, applied.keys, now);
        if (changes.length > 0) {
          events.unshift({ event: "key_policy_changed", summary: describePolicyChanges(changes), changes });
        }
        this.#mine.add(applied.version);
        await this.#reload(applied.keys, applied.version);
        for (const event of events) this.#onEvent(event);
        return { changed: events.length > 0, events };
      } catch (error) {
        if (!(error instanceof NeedMoreKeys)) throw error;
      }
    }
    throw new AppError("unavailable", "Key set kept changing under us; try again");
  }

  /**
   * Seals every private key (and the master-secret canary) again with `reseal`, all in one
   * transaction, and reloads. Returns how many blobs changed.
   */
  async reseal(reseal: Reseal): Promise<number> {
    const count = await this.#store.resealKeys(reseal, { origin: this.#origin, reason: "reseal", at: this.now() });
    if (count > 0) this.#mine.add(await this.#store.keysVersion());
    await this.sync(true);
    return count;
  }

  async #reload(records: readonly KeyRecord[], version: number): Promise<void> {
    await this.ring.load(records, this.now());
    this.#records = records;
    this.#version = version;
  }

  /**
   * Reloads the ring when the stored key set changed (or always, with `force`), reporting the
   * changes other processes made. Returns true when it reloaded. Concurrent calls share one.
   */
  sync(force = false): Promise<boolean> {
    if (this.#syncing !== null && !force) return this.#syncing;
    const run = (async () => {
      const version = await this.#store.keysVersion();
      if (!force && version === this.#version) return false;
      const records = await this.#store.listKeys();
      const known = this.#version;
      const events = Number.isNaN(known) || version === known ? [] : await this.#elsewhere(known, records);
      await this.#reload(records, version);
      for (const event of events) this.#onEvent(event);
      return true;
    })();
    this.#syncing = run;
    return run.finally(() => {
      if (this.#syncing === run) this.#syncing = null;
    });
  }

  /** The events of the changes since keys version `known` that other processes made. */
  async #elsewhere(known: number, records: readonly KeyRecord[]): Promise<KeyEvent[]> {
    const notes = (await this.#store.keyChanges(known)).filter((note) => !this.#mine.has(note.version));
    for (const version of this.#mine) if (version <= known) this.#mine.delete(version);
    const diff = changesBetween(this.#records, records, this.now());
    if (notes.length === 0 && diff.length === 0) return [];
    const by = [...new Set(notes.map((note) => note.origin))].join(", ") || "another process";
    const reason = [...new Set(notes.map((note) => note.reason))].join(", ") || "unknown";
    const events = madeBy(diff, { by, reason });
    if (notes.some((note) => note.reason === "reseal")) events.push({ event: "keys_resealed", by, reason });
    if (notes.some((note) => note.reason === "policy")) {
      const stored = await this.#store.keyPolicy();
      const changes = stored === null ? [] : policyChanges(this.policy, stored);
      if (changes.length > 0) {
        events.push({ event: "key_policy_differs", summary: describePolicyChanges(changes), changes, by, reason });
      }
    }
    return events;
  }
}
