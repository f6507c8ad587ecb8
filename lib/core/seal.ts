/**
 * Seals and opens private key material for storage: AES-256-GCM under a key derived from the
 * master secret (`NOT_MY_KEY`) with HKDF-SHA-256. Each blob is `version ‖ nonce(12) ‖ ciphertext
 * ‖ tag(16)`, and the row's kid is bound as additional authenticated data, so a blob copied to
 * another row does not open. Knows nothing of SQL or files.
 *
 * Sealing is synchronous (node:crypto) so a storage adapter can seal inside a synchronous
 * transaction once it knows the row's kid.
 * @module
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import { SealError } from "./errors.ts";

/** The blob format version this build writes. */
export const SEAL_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES;
const HKDF_SALT = new TextEncoder().encode("jwks-server/at-rest/v1");
const HKDF_INFO = new TextEncoder().encode("private-key-encryption");
/** Shortest master secret accepted, in bytes once encoded (main.ts warns below 16). */
export const MIN_SECRET_BYTES = 1;

/** Seals and opens blobs for one master secret. */
export interface Sealer {
  /** Encrypts `plaintext` for the row `kid` with a fresh random nonce. */
  seal(kid: number | string, plaintext: Uint8Array): Uint8Array;
  /** Decrypts a blob sealed for `kid`; throws {@linkcode SealError} on any mismatch. */
  open(kid: number | string, blob: Uint8Array): Uint8Array;
}

function aad(kid: number | string): Uint8Array {
  return new TextEncoder().encode(`jwks-server/v${SEAL_VERSION}/kid:${kid}`);
}

/**
 * Makes a {@linkcode Sealer} for `masterSecret` (text is UTF-8 encoded). The derived key lives
 * only in memory as a non-exportable KeyObject.
 */
export function createSealer(masterSecret: string | Uint8Array): Sealer {
  const ikm = typeof masterSecret === "string" ? new TextEncoder().encode(masterSecret) : masterSecret;
  if (ikm.byteLength < MIN_SECRET_BYTES) {
    throw new SealError(`Master secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const key: KeyObject = createSecretKey(new Uint8Array(hkdfSync("sha256", ikm, HKDF_SALT, HKDF_INFO, 32)));

  return {
    seal(kid, plaintext) {
      const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
      const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(kid));
      const body = cipher.update(plaintext);
      const tail = cipher.final();
      const tag = cipher.getAuthTag();
      const blob = new Uint8Array(HEADER_BYTES + body.byteLength + tail.byteLength + TAG_BYTES);
      blob[0] = SEAL_VERSION;
      blob.set(nonce, 1);
      blob.set(body, HEADER_BYTES);
      blob.set(tail, HEADER_BYTES + body.byteLength);
      blob.set(tag, blob.byteLength - TAG_BYTES);
      return blob;
    },
    open(kid, blob) {
      if (blob.byteLength < HEADER_BYTES + TAG_BYTES) {
        throw new SealError(`Sealed key for kid "${kid}" is truncated`);
      }
      if (blob[0] !== SEAL_VERSION) {
        throw new SealError(`Sealed key for kid "${kid}" has unknown format version ${blob[0]}`);
      }
      const nonce = blob.subarray(1, HEADER_BYTES);
      const tag = blob.subarray(blob.byteLength - TAG_BYTES);
      const body = blob.subarray(HEADER_BYTES, blob.byteLength - TAG_BYTES);
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(kid));
        decipher.setAuthTag(tag);
        const head = decipher.update(body);
        const tail = decipher.final();
        const out = new Uint8Array(head.byteLength + tail.byteLength);
        out.set(head);
        out.set(tail, head.byteLength);
        return out;
      } catch (cause) {
        throw new SealError(
          `Sealed key for kid "${kid}" does not open: wrong NOT_MY_KEY, or the row was altered`,
          { cause },
        );
      }
    },
  };
}

/** Makes a new random master secret, base64url encoded (32 random bytes). */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The kid the master-secret canary is sealed for (it is no key's). */
export const CANARY_KID = "secret-check";
const CANARY_TEXT = new TextEncoder().encode("jwks-server");

/** Proves a master secret is the one a database was created with, before anything is written. */
export interface SecretCheck {
  /** A blob to store once, when the database is new. */
  make(): Uint8Array;
  /** Throws {@linkcode SealError} unless `blob` was made with the same master secret. */
  verify(blob: Uint8Array, where: string): void;
}

/** The {@linkcode SecretCheck} for `sealer`. */
export function secretCheck(sealer: Sealer): SecretCheck {
  return {
    make: () => sealer.seal(CANARY_KID, CANARY_TEXT),
    verify(blob, where) {
      try {
        sealer.open(CANARY_KID, blob);
      } catch (cause) {
        throw new SealError(
          `NOT_MY_KEY does not match the secret ${where} was created with; refusing to start`,
          { cause },
        );
      }
    },
  };
}

/**
 * A {@linkcode Sealer} during a change of master secret: seals with `current`, opens with
 * `current` or else `previous`, and says which blobs still need sealing again.
 */
export interface RotatingSealer extends Sealer {
  /** True once a blob opened only with the previous secret, until {@linkcode RotatingSealer.settle}. */
  readonly stale: boolean;
  /** Forgets that a blob needed the previous secret (they were all sealed again). */
  settle(): void;
  /**
   * One step of a re-seal: null when `blob` opens with the current secret, else the blob
   * opened with the previous one and sealed with the current one. Throws when neither opens it.
   */
  reseal(kid: number | string, blob: Uint8Array): Uint8Array | null;
}

/** The {@linkcode RotatingSealer} from `previous` to `current` (no previous: only `current`). */
export function rotatingSealer(current: Sealer, previous: Sealer | null): RotatingSealer {
  let stale = false;
  const openEither = (kid: number | string, blob: Uint8Array): { plaintext: Uint8Array; old: boolean } => {
    try {
      return { plaintext: current.open(kid, blob), old: false };
    } catch (error) {
      if (previous === null) throw error;
      try {
        return { plaintext: previous.open(kid, blob), old: true };
      } catch {
        throw error;
      }
    }
  };
  return {
    get stale() {
      return stale;
    },
    settle() {
      stale = false;
    },
    seal: (kid, plaintext) => current.seal(kid, plaintext),
    open(kid, blob) {
      const { plaintext, old } = openEither(kid, blob);
      if (old) stale = true;
      return plaintext;
    },
    reseal(kid, blob) {
      const { plaintext, old } = openEither(kid, blob);
      try {
        return old ? current.seal(kid, plaintext) : null;
      } finally {
        plaintext.fill(0);
      }
    },
  };
}
