/**
 * The server's own keys as the probe needs them: the key that signs now (with its public JWK,
 * and its private JWK when the caller can unseal it), the newest expired key, the newest revoked
 * key, and the published set. Built either from stored records and the sealer (the CLI) or
 * from the live key view (the HTTP route, which holds no revoked key and no private JWK).
 * @module
 */
import type { JWK } from "jose";
import { AppError } from "../core/errors.ts";
import { type KeyRecord, keyState } from "../core/key_lifecycle.ts";
import { type Alg, importSigningKey, type PublicJwk } from "../core/key_material.ts";
import type { KeyView, SigningKey } from "../core/key_ring.ts";
import type { Sealer } from "../core/seal.ts";
import type { Signer } from "../core/signer.ts";

/** A key of the server that can sign. */
export interface ProbeSigner {
  readonly kid: string;
  readonly alg: Alg;
  /** A key unsealed by the probe, or the live key ring's `Signer` (whichever backend holds it). */
  readonly key: CryptoKey | Signer;
}

/** The key that signs now. */
export interface ActiveSigner extends ProbeSigner {
  /** Its public JWK, as the JWKS publishes it. */
  readonly publicJwk: PublicJwk;
  /** Its private JWK, when known: needed to sign with the same key under another algorithm. */
  readonly privateJwk?: JWK;
}

/** The server's keys, as the cases use them. */
export interface ProbeKeys {
  readonly active: ActiveSigner;
  /** The newest unrevoked expired key (no longer published), or null. */
  readonly expired: ProbeSigner | null;
  /** The most recently revoked key, or null. */
  readonly revoked: ProbeSigner | null;
  /** Every public key the JWKS publishes now. */
  readonly published: readonly PublicJwk[];
}

function noActiveKey(): AppError {
  return new AppError("no_signing_key", "No key signs now; start the server (or run keys rotate) first");
}

function newest(records: readonly KeyRecord[], by: (record: KeyRecord) => number): KeyRecord | null {
  return records.reduce<KeyRecord | null>(
    (best, record) => best === null || by(record) > by(best) ? record : best,
    null,
  );
}

async function unseal(record: KeyRecord, sealer: Sealer): Promise<{ signer: ProbeSigner; jwk: JWK }> {
  const jwk: JWK = JSON.parse(new TextDecoder().decode(sealer.open(record.id, record.blob)));
  return { signer: { kid: record.kid, alg: record.alg, key: await importSigningKey(jwk, record.alg) }, jwk };
}

/**
 * The probe keys from stored `records` at `now` (unix seconds), unsealing the three keys it
 * signs with. Throws `no_signing_key` when no key signs at `now`.
 */
export async function probeKeysFromRecords(
  records: readonly KeyRecord[],
  sealer: Sealer,
  now: number,
): Promise<ProbeKeys> {
  const active = newest(records.filter((record) => keyState(record, now) === "active"), (r) => r.activatesAt);
  if (active === null) throw noActiveKey();
  const expired = newest(records.filter((r) => r.revokedAt === null && r.exp <= now), (r) => r.exp);
  const revoked = newest(records.filter((r) => r.revokedAt !== null), (r) => r.revokedAt ?? 0);
  const opened = await unseal(active, sealer);
  return {
    active: { ...opened.signer, publicJwk: active.publicJwk, privateJwk: opened.jwk },
    expired: expired === null ? null : (await unseal(expired, sealer)).signer,
    revoked: revoked === null ? null : (await unseal(revoked, sealer)).signer,
    published: records.filter((record) => keyState(record, now) !== "expired").map((record) => record.publicJwk),
  };
}

function signer(key: SigningKey): ProbeSigner {
  return { kid: key.kid, alg: key.alg, key: key.signer };
}

/** The probe keys from a live key view: no revoked key and no private JWK. */
export function probeKeysFromView(view: KeyView): ProbeKeys {
  const active = view.active;
  if (active === null) throw noActiveKey();
  const publicJwk = view.jwks.keys.find((key) => key.kid === active.kid);
  if (publicJwk === undefined) throw noActiveKey();
  return {
    active: { ...signer(active), publicJwk },
    expired: view.expired === null ? null : signer(view.expired),
    revoked: null,
    published: view.jwks.keys,
  };
}
