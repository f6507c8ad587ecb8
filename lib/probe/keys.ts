/**
 * The server's own keys as the probe needs them: the key that signs now (with its public JWK,
 * and, when the caller can unseal it, the same key imported for the other RSA algorithm), the
 * newest expired key, the newest revoked key, and the published set. Built either from stored
 * records and the sealer (the CLI: keys read from the seal as PKCS#8, never as private JWK
 * strings) or from the live key view (the HTTP route, which holds no revoked key).
 * @module
 */
import { AppError } from "../core/errors.ts";
import { type KeyRecord, keyState } from "../core/key_lifecycle.ts";
import type { Alg, PublicJwk } from "../core/key_material.ts";
import type { KeyView, SigningKey } from "../core/key_ring.ts";
import { type PrivateKeyParts, privateKeyParts } from "../core/private_key.ts";
import type { Sealer } from "../core/seal.ts";
import { importPkcs8, type Signer } from "../core/signer.ts";

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
  /**
   * The same private key imported (non-extractable) for the other RSA algorithm, RS256 ↔ PS256,
   * when the probe unsealed an RSA key itself: what the algorithm-switch case signs with.
   */
  readonly switched?: CryptoKey;
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

/** The other RSA algorithm, or null for a key type that has none. */
function switchedAlg(alg: Alg): Alg | null {
  return alg === "RS256" ? "PS256" : alg === "PS256" ? "RS256" : null;
}

/** Unseals `record` into non-extractable WebCrypto keys for its algorithm and for each of `also`. */
async function unseal(record: KeyRecord, sealer: Sealer, also: readonly Alg[] = []): Promise<CryptoKey[]> {
  const plaintext = sealer.open(record.id, record.blob);
  let key: PrivateKeyParts;
  try {
    key = privateKeyParts(plaintext);
  } finally {
    plaintext.fill(0);
  }
  try {
    return await Promise.all([record.alg, ...also].map((alg) => importPkcs8(key.pkcs8, alg)));
  } finally {
    key.pkcs8.fill(0);
  }
}

async function probeSigner(record: KeyRecord, sealer: Sealer): Promise<ProbeSigner> {
  const [key] = await unseal(record, sealer);
  return { kid: record.kid, alg: record.alg, key: key! };
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
  const other = switchedAlg(active.alg);
  const [key, switched] = await unseal(active, sealer, other === null ? [] : [other]);
  return {
    active: {
      kid: active.kid,
      alg: active.alg,
      key: key!,
      publicJwk: active.publicJwk,
      ...(switched ? { switched } : {}),
    },
    expired: expired === null ? null : await probeSigner(expired, sealer),
    revoked: revoked === null ? null : await probeSigner(revoked, sealer),
    published: records.filter((record) => keyState(record, now) !== "expired").map((record) => record.publicJwk),
  };
}

function signer(key: SigningKey): ProbeSigner {
  return { kid: key.kid, alg: key.alg, key: key.signer };
}

/** The probe keys from a live key view: no revoked key, and no key for the other RSA algorithm. */
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
