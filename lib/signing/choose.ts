/**
 * Chooses the signing backend at start: OpenSSL's libcrypto when it loads (FFI permission
 * granted, an OpenSSL 3 library found), for the algorithms where it measured faster than
 * WebCrypto, with WebCrypto for the rest, for any key OpenSSL refuses, and for everything when
 * libcrypto is not usable. Says what it chose and why, for the start log and `/metrics`.
 * @module
 */
import type { Alg } from "../core/key_material.ts";
import { routedBackend, type SigningBackend } from "../core/signer.ts";
import { openSslBackend } from "./openssl.ts";
import { webCryptoBackend } from "./webcrypto.ts";

/**
 * Where OpenSSL signs by default. EdDSA stays with WebCrypto: the runtime's Ed25519 signs as
 * fast as libcrypto's, and a native call's hand-off to another thread costs more than it saves
 * (`deno task bench` measures both, micro benchmark `sign`).
 */
export const OPENSSL_ALGS: readonly Alg[] = Object.freeze(["RS256", "PS256", "ES256"]);

/** The chosen backend, and why when it is not the preferred one. */
export interface ChosenBackend {
  readonly backend: SigningBackend;
  /** The algorithms the chosen backend signs itself; the others sign through WebCrypto. */
  readonly algs: readonly Alg[];
  /** Why OpenSSL is not used, or null when it is. */
  readonly fallbackReason: string | null;
  /** True when OpenSSL signs on the JS thread (a process with one core); false otherwise. */
  readonly inline: boolean;
}

/** Options of {@linkcode chooseSigningBackend}. */
export interface ChooseOptions {
  /** `openssl` (default: when available), or `webcrypto` to skip OpenSSL. */
  prefer?: "openssl" | "webcrypto";
  /** libcrypto paths to try; default the usual system locations. */
  libcryptoPaths?: readonly string[];
  /** Algorithms OpenSSL signs; default {@linkcode OPENSSL_ALGS}. */
  algs?: readonly Alg[];
  /** Sign on the JS thread; default when the process has one core (see `OpenSslOptions`). */
  inline?: boolean;
  /** Told when OpenSSL refuses a key that WebCrypto then holds. */
  onKeyFallback?: (alg: Alg, error: unknown) => void;
}

function ffiGranted(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/** Picks the backend once, at start. Never throws: WebCrypto is always there. */
export function chooseSigningBackend(options: ChooseOptions = {}): ChosenBackend {
  const webcrypto = webCryptoBackend();
  const fallback = (reason: string): ChosenBackend => ({
    backend: webcrypto,
    algs: [],
    fallbackReason: reason,
    inline: false,
  });
  if (options.prefer === "webcrypto") return fallback("WebCrypto was asked for");
  if (!ffiGranted()) return fallback("the FFI permission is not granted (--allow-ffi)");
  let openssl;
  try {
    openssl = openSslBackend(options.libcryptoPaths, options.inline === undefined ? {} : { inline: options.inline });
  } catch (error) {
    return fallback(error instanceof Error ? error.message : String(error));
  }
  const algs = options.algs ?? OPENSSL_ALGS;
  const backend = routedBackend(openssl, webcrypto, {
    algs,
    ...(options.onKeyFallback ? { onFallback: options.onKeyFallback } : {}),
  });
  return { backend, algs: backend.algs, fallbackReason: null, inline: openssl.inline };
}
