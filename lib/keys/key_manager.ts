/**
 * Runs the key lifecycle against a store: plans with `planKeys`, generates the key material the
 * plan needs outside the transaction, re-plans and applies inside the store's exclusive
 * transaction (so two processes sharing one database never both act), and keeps a `KeyRing`
 * in step with the stored keys. Time comes from an injected clock.
 * @module
 */
import type { Sealer } from "../core/seal.ts";
import { AppError } from "../core/errors.ts";
import { KeyRing, type KeyView } from "../core/key_ring.ts";
import { isEmptyPlan, type KeyIntent, type KeyRecord, planKeys } from "../core/key_lifecycle.ts";
import { type LifecyclePolicy } from "../core/key_policy.ts";
import { type Alg, generateKeyMaterial, type KeyMaterial } from "../core/key_material.ts";
import type { AppliedKeyChanges, KeyInsert, KeyStore } from "../store/ports.ts";
import type { ImportSigner } from "../core/signer.ts";

/** A lifecycle event, for logs and metrics. Times are unix seconds. */
export type KeyEvent =
  | {
    readonly event: "key_created";
    readonly kid: string;
    readonly alg: Alg;
    readonly activatesAt: number;
    readonly exp: number;
  }
  | {
    readonly event: "key_rescheduled";
    readonly kid: string;
    readonly activatesAt: number;
    readonly retiresAt: number;
    readonly exp: number;
  }
  | { readonly event: "key_revoked"; readonly kid: string; readonly revokedAt: number }
  | { readonly event: "key_purged"; readonly kid: string; readonly exp: number }
  | {
    readonly event: "key_activated";
    readonly kid: string;
    readonly alg: Alg;
    readonly activatedAt: number;
    readonly retiresAt: number;
  }
  | { readonly event: "key_retired"; readonly kid: string; readonly retiredAt: number; readonly exp: number };

/** Options of {@linkcode KeyManager}. */
export interface KeyManagerOptions {
  store: KeyStore;
  sealer: Sealer;
  policy: LifecyclePolicy;
  /** Unix milliseconds now. */
  clock: () => number;
  /** Makes new key material; defaults to {@linkcode generateKeyMaterial}. */
  generate?: (alg: Alg) => Promise<KeyMaterial>;
  /** Told about every lifecycle event. */
  onEvent?: (event: KeyEvent) => void;
  /** Imports private keys for signing; default non-extractable WebCrypto keys. */
  importSigner?: ImportSigner;
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

/** Keeps the keys of one store alive and the in-memory ring in step with them. */
export class KeyManager {
  readonly ring: KeyRing;
  readonly policy: LifecyclePolicy;
  #store: KeyStore;
  #sealer: Sealer;
  #clock: () => number;
  #generate: (alg: Alg) => Promise<KeyMaterial>;
  #onEvent: (event: KeyEvent) => void;
  #version = Number.NaN;
  #lastView: KeyView | null = null;
  #syncing: Promise<boolean> | null = null;

  constructor(options: KeyManagerOptions) {
    this.#store = options.store;
    this.#sealer = options.sealer;
    this.policy = options.policy;
    this.#clock = options.clock;
    this.#generate = options.generate ?? generateKeyMaterial;
    this.#onEvent = options.onEvent ?? (() => {});
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
   */
  async apply(intent: KeyIntent = { kind: "maintain" }): Promise<ApplyResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.now();
      const preview = planKeys(await this.#store.listKeys(), now, this.policy, intent);
      if (isEmptyPlan(preview)) {
        await this.sync();
        return { changed: false, events: [] };
      }
      const pool = await Promise.all(Array.from({ length: preview.generated }, () => this.#generate(this.policy.alg)));
      let before: readonly KeyRecord[] = [];
      try {
        const applied = await this.#store.updateKeys((keys) => {
          before = keys;
          const plan = planKeys(keys, now, this.policy, intent);
          if (plan.generated > pool.length) throw new NeedMoreKeys();
          const inserts = plan.inserts.map((insert): KeyInsert => {
            const material = insert.source === "import"
              ? (intent as { material: KeyMaterial }).material
              : pool[insert.source]!;
            const { kid, alg, publicJwk, privateBytes } = material;
            return {
              kid,
              alg,
              publicJwk,
              createdAt: insert.createdAt,
              activatesAt: insert.activatesAt,
              retiresAt: insert.retiresAt,
              exp: insert.exp,
              seal: (id) => this.#sealer.seal(id, privateBytes),
            };
          });
          return { inserts, updates: plan.updates, deletes: plan.deletes };
        });
        const events = eventsOf(applied, before, now);
        for (const event of events) this.#onEvent(event);
        await this.sync(true);
        return { changed: events.length > 0, events };
      } catch (error) {
        if (!(error instanceof NeedMoreKeys)) throw error;
      }
    }
    throw new AppError("unavailable", "Key set kept changing under us; try again");
  }

  /**
   * Reloads the ring when the stored key set changed (or always, with `force`). Returns true
   * when it reloaded. Concurrent calls share one reload.
   */
  sync(force = false): Promise<boolean> {
    if (this.#syncing !== null && !force) return this.#syncing;
    const run = (async () => {
      const version = await this.#store.keysVersion();
      if (!force && version === this.#version) return false;
      await this.ring.load(await this.#store.listKeys(), this.now());
      this.#version = version;
      return true;
    })();
    this.#syncing = run;
    return run.finally(() => {
      if (this.#syncing === run) this.#syncing = null;
    });
  }
}

function eventsOf(applied: AppliedKeyChanges, before: readonly KeyRecord[], now: number): KeyEvent[] {
  const events: KeyEvent[] = [];
  const byId = new Map(before.map((key) => [key.id, key]));
  for (const insert of applied.inserts) {
    events.push({
      event: "key_created",
      kid: insert.kid,
      alg: insert.alg,
      activatesAt: insert.activatesAt,
      exp: insert.exp,
    });
  }
  for (const update of applied.updates) {
    const key = byId.get(update.id);
    if (key === undefined) continue;
    if (update.revokedAt !== null && key.revokedAt === null) {
      events.push({ event: "key_revoked", kid: key.kid, revokedAt: update.revokedAt });
    } else {
      events.push({
        event: "key_rescheduled",
        kid: key.kid,
        activatesAt: update.activatesAt,
        retiresAt: update.retiresAt,
        exp: update.exp,
      });
    }
  }
  for (const id of applied.deletes) {
    const key = byId.get(id);
    if (key === undefined) continue;
    // Revoked and purged at once (no retention): report both.
    if (key.revokedAt === null && key.exp > now) events.push({ event: "key_revoked", kid: key.kid, revokedAt: now });
    events.push({ event: "key_purged", kid: key.kid, exp: Math.min(key.exp, now) });
  }
  return events;
}
