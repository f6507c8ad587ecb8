/**
 * The signing contract between the token code and the libraries that hold private keys: a
 * `Signer` signs JWS signing input with one key it never reveals, a `SigningBackend` turns a
 * private key (PKCS#8 DER read from its seal, with its public JWK) into one. Also the bound on
 * what may be signed, and the routing of algorithms to backends with a fallback per key. Pure:
 * the backends themselves live in `lib/signing/`.
 * @module
 */
import type { Alg } from "./key_material.ts";
import { AppError } from "./errors.ts";
import { SUBTLE_PARAMS, SUBTLE_SIGN } from "./key_checks.ts";
import type { PrivateKeyParts } from "./private_key.ts";

/**
 * The most bytes one signature may cover (1 MiB). Every buffer handed to native code is bounded
 * by it; a JWS signing input (header and payload, base64url) is far below it in practice.
 */
export const MAX_SIGNING_INPUT = 1024 * 1024;

/** Signs with one private key that stays inside its backend. */
export interface Signer {
  readonly alg: Alg;
  /** The name of the backend that holds the key (`openssl`, `webcrypto`). */
  readonly backend: string;
  /** The JWS signature (JOSE form: raw r‖s for ES256) of `data`, at most {@linkcode MAX_SIGNING_INPUT} bytes. */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** Releases the key (native memory is freed once signatures in flight are done). Idempotent. */
  close?(): void;
}

/** Imports private keys as {@linkcode Signer}s. */
export interface SigningBackend {
  /** Short name for logs and metrics: `openssl`, `webcrypto`. */
  readonly name: string;
  /** What runs underneath, for the start log (e.g. `OpenSSL 3.0.19 27 Jan 2026`). */
  readonly library: string;
  /**
   * Imports `key` for `alg`; throws `invalid_key` when this backend cannot hold it. The DER is
   * the caller's: read, never kept or zeroed here (a fallback backend may need it next).
   */
  importKey(key: PrivateKeyParts, alg: Alg): Promise<Signer>;
  /** Releases the library; signers already made must be closed first. */
  close?(): void;
}

/** How `importSigner` is called by the key ring. */
export type ImportSigner = (key: PrivateKeyParts, alg: Alg) => Promise<Signer>;

/** Throws `payload_too_large` when `data` is over {@linkcode MAX_SIGNING_INPUT} bytes. */
export function checkSigningInput(data: Uint8Array): void {
  if (data.byteLength > MAX_SIGNING_INPUT) {
    throw new AppError(
      "payload_too_large",
      `Refusing to sign ${data.byteLength} bytes: the limit is ${MAX_SIGNING_INPUT} bytes`,
    );
  }
}

/** Options of {@linkcode routedBackend}. */
export interface RoutedBackendOptions {
  /** The algorithms `primary` signs; the others go to `fallback`. Default: all. */
  algs?: readonly Alg[];
  /** Told when `primary` refused a key that `fallback` then took. */
  onFallback?: (alg: Alg, error: unknown) => void;
}

/**
 * A backend that imports keys of `options.algs` with `primary` and the rest with `fallback`,
 * and falls back per key when `primary` refuses one (the key then signs through `fallback`;
 * `onFallback` is told). It is named after `primary`, which signs what it was chosen for.
 */
export function routedBackend(
  primary: SigningBackend,
  fallback: SigningBackend,
  options: RoutedBackendOptions = {},
): SigningBackend & { readonly algs: readonly Alg[] } {
  const algs = Object.freeze([...(options.algs ?? ["RS256", "PS256", "ES256", "EdDSA"])]);
  const onFallback = options.onFallback ?? (() => {});
  return {
    name: primary.name,
    library: primary.library,
    algs,
    async importKey(key, alg) {
      if (!algs.includes(alg)) return await fallback.importKey(key, alg);
      try {
        return await primary.importKey(key, alg);
      } catch (error) {
        const signer = await fallback.importKey(key, alg);
        onFallback(alg, error);
        return signer;
      }
    },
    close() {
      primary.close?.();
      fallback.close?.();
    },
  };
}

/**
 * A {@linkcode Signer} over a WebCrypto private key (kept as it is: non-extractable keys stay
 * so). Refuses an RSA key under 2048 bits, as jose does.
 */
export function cryptoKeySigner(key: CryptoKey, alg: Alg): Signer {
  if (key.type !== "private" || !key.usages.includes("sign")) {
    throw new AppError("invalid_key", "The key cannot sign");
  }
  const bits = (key.algorithm as Partial<RsaHashedKeyAlgorithm>).modulusLength;
  if (bits !== undefined && bits < 2048) {
    throw new AppError("invalid_key", `RSA keys must be at least 2048 bits, this one has ${bits}`);
  }
  const params = SUBTLE_SIGN[alg]!;
  return {
    alg,
    backend: "webcrypto",
    async sign(data) {
      checkSigningInput(data);
      return new Uint8Array(await crypto.subtle.sign(params, key, data as Uint8Array<ArrayBuffer>));
    },
  };
}

/** `pkcs8` imported as a non-extractable WebCrypto key that signs `alg`; `invalid_key` when it does not import. */
export async function importPkcs8(pkcs8: Uint8Array<ArrayBuffer>, alg: Alg): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("pkcs8", pkcs8, SUBTLE_PARAMS[alg]!.import, false, ["sign"]);
  } catch (error) {
    const why = error instanceof Error ? error.message.slice(0, 120) : "unknown error";
    throw new AppError("invalid_key", `The key does not import for ${alg}: ${why}`);
  }
}

/** Imports a private key's PKCS#8 DER as a non-extractable WebCrypto signer: the key ring's default importer. */
export async function importWebCryptoSigner(key: PrivateKeyParts, alg: Alg): Promise<Signer> {
  return cryptoKeySigner(await importPkcs8(key.pkcs8, alg), alg);
}
