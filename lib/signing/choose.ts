/**
 * Chooses the signing backend at start: OpenSSL's libcrypto when it loads (FFI permission
 * granted, an OpenSSL 3 library found), for the algorithms where it measured faster than
 * WebCrypto; `node:crypto` for EdDSA, whose `KeyObject` signs Ed25519 in half WebCrypto's time;
 * WebCrypto for the rest, for any key the others refuse, and for everything but EdDSA when
 * libcrypto is not usable. Says what it chose and why, for the start log and `/metrics`.
 * @module
 */
import type { Alg } from "../core/key_material.ts";
import { routedBackend, type SigningBackend } from "../core/signer.ts";
import { NODE_CRYPTO_ALGS, nodeCryptoBackend } from "./node_crypto.ts";
import { openSslBackend } from "./openssl.ts";
import { webCryptoBackend } from "./webcrypto.ts";

/**
 * Where OpenSSL signs by default. EdDSA goes to `node:crypto`: libcrypto's Ed25519 signs no
 * faster, and a native call's hand-off to another thread costs more than it saves (`deno task
 * bench`, micro benchmark `sign`, measures all three).
 */
export const OPENSSL_ALGS: readonly Alg[] = Object.freeze(["RS256", "PS256", "ES256"]);

const ALL_ALGS: readonly Alg[] = Object.freeze(["RS256", "PS256", "ES256", "EdDSA"]);

/** The chosen backend, and why when it is not the preferred one. */
export interface ChosenBackend {
  /** Named after OpenSSL, or WebCrypto when OpenSSL is not used; routes each algorithm as `routes` says. */
  readonly backend: SigningBackend;
  /** The algorithms OpenSSL signs (none when it is not used). */
  readonly algs: readonly Alg[];
  /** The backend that signs each algorithm (a key it refuses signs through WebCrypto). */
  readonly routes: Readonly<Record<Alg, string>>;
  /** Why OpenSSL is not used, or null when it is. */
  readonly fallbackReason: string | null;
  /** True when OpenSSL signs on the JS thread (a process with one core); false otherwise. */
  readonly inline: boolean;
}

/** Options of {@linkcode chooseSigningBackend}. */
export interface ChooseOptions {
  /** `openssl` (default: OpenSSL and node:crypto when available), or `webcrypto` for WebCrypto only. */
  prefer?: "openssl" | "webcrypto";
  /** libcrypto paths to try; default the usual system locations. */
  libcryptoPaths?: readonly string[];
  /** Algorithms OpenSSL signs; default {@linkcode OPENSSL_ALGS}. */
  algs?: readonly Alg[];
  /** Sign on the JS thread; default when the process has one core (see `OpenSslOptions`). */
  inline?: boolean;
  /** Told when OpenSSL or node:crypto refuses a key that WebCrypto then holds. */
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
  const onFallback = options.onKeyFallback ? { onFallback: options.onKeyFallback } : {};
  const routesOf = (routed: Readonly<Record<string, readonly Alg[]>>) =>
    Object.freeze(Object.fromEntries(ALL_ALGS.map((alg) => [
      alg,
      Object.keys(routed).find((name) => routed[name]!.includes(alg)) ?? webcrypto.name,
    ]))) as Record<Alg, string>;
  // OpenSSL keeps an algorithm it was asked for by name; node:crypto signs the rest of its own.
  const algs = options.algs ?? OPENSSL_ALGS;
  const nodeAlgs = NODE_CRYPTO_ALGS.filter((alg) => options.algs === undefined || !algs.includes(alg));
  // EdDSA signs through node:crypto whatever the base; the whole is still named after the base.
  const withNodeCrypto = (base: SigningBackend): SigningBackend => ({
    ...routedBackend(nodeCryptoBackend(), base, { algs: nodeAlgs, ...onFallback }),
    name: base.name,
    library: base.library,
  });
  const fallback = (reason: string, backend: SigningBackend, routes: Record<Alg, string>): ChosenBackend => ({
    backend,
    algs: [],
    routes,
    fallbackReason: reason,
    inline: false,
  });
  if (options.prefer === "webcrypto") return fallback("WebCrypto was asked for", webcrypto, routesOf({}));
  const withoutOpenSsl = (reason: string) =>
    fallback(reason, withNodeCrypto(webcrypto), routesOf({ "node:crypto": nodeAlgs }));
  if (!ffiGranted()) return withoutOpenSsl("the FFI permission is not granted (--allow-ffi)");
  let openssl;
  try {
    openssl = openSslBackend(options.libcryptoPaths, options.inline === undefined ? {} : { inline: options.inline });
  } catch (error) {
    return withoutOpenSsl(error instanceof Error ? error.message : String(error));
  }
  const base = routedBackend(openssl, webcrypto, { algs, ...onFallback });
  const backend = withNodeCrypto(base);
  return {
    backend,
    algs: base.algs,
    routes: routesOf({ openssl: algs, "node:crypto": nodeAlgs }),
    fallbackReason: null,
    inline: openssl.inline,
  };
}
