/**
 * The binding of a stored key's public half to its sealed private half: the sealed blob is
 * authenticated (AES-256-GCM, bound to its row id), the metadata row that holds the published
 * public JWK and the kid is not, so the public key is derived from the private one at load and
 * must equal what is stored. Also the watch on a signer that takes a key out of service when it
 * fails to sign. Pure.
 * @module
 */
import { calculateJwkThumbprint, type JWK } from "jose";
import { AppError } from "./errors.ts";
import type { KeyRecord } from "./key_lifecycle.ts";
import { type PublicJwk, publicJwk } from "./key_material.ts";
import type { Signer } from "./signer.ts";

/** A JWK's members in a canonical order, for comparison. */
export function canonicalJwk(jwk: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(Object.keys(jwk).sort().map((name) => [name, jwk[name]]));
}

/**
 * True when `b` describes the key `a` was loaded from: the same kid and the same published
 * public JWK. The sealed blob may differ: another instance re-sealing every key under a new
 * master secret (`secret rotate`, `NOT_MY_KEY_PREVIOUS`) rewrites it, and the key already held
 * in memory, checked against its public half when it was loaded, stays the right one.
 */
export function sameRecord(a: KeyRecord, b: KeyRecord): boolean {
  return a.kid === b.kid && canonicalJwk(a.publicJwk) === canonicalJwk(b.publicJwk);
}

/**
 * The public JWK derived from the opened private key `jwk` of `record`, when the stored kid is
 * its thumbprint and the stored public JWK is exactly it; otherwise why the row must not be
 * used (a row written by someone who could not seal a key).
 */
export async function boundPublicKey(jwk: JWK, record: KeyRecord): Promise<PublicJwk | string> {
  let derived: PublicJwk;
  try {
    derived = publicJwk(jwk, record.kid, record.alg);
    if (await calculateJwkThumbprint(derived, "sha256") !== record.kid) {
      return "its kid is not the thumbprint of its sealed private key";
    }
  } catch {
    return "its sealed private key is not a usable key";
  }
  if (canonicalJwk(derived) !== canonicalJwk(record.publicJwk)) {
    return "its stored public key does not match its sealed private key";
  }
  return derived;
}

/**
 * `signer`, watched: a failure that is the key's (not a refused input) is told to `onFailure`
 * with a short reason and answered as `unavailable` (503, retry), so the caller's next view can
 * sign with another key.
 */
export function watchedSigner(signer: Signer, onFailure: (reason: string) => void): Signer {
  return {
    alg: signer.alg,
    backend: signer.backend,
    sign: async (data) => {
      try {
        return await signer.sign(data);
      } catch (error) {
        if (error instanceof AppError && error.code === "payload_too_large") throw error;
        onFailure(error instanceof Error ? error.message.slice(0, 120) : "unknown error");
        throw new AppError("unavailable", "The signing key failed; retry shortly", { retryAfter: 1, cause: error });
      }
    },
    ...(signer.close ? { close: () => signer.close!() } : {}),
  };
}
