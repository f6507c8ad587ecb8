/**
 * The WebCrypto signing backend: private keys imported as non-extractable `CryptoKey`s, signed
 * with `crypto.subtle.sign`. Always available; the fallback whenever OpenSSL is not, and the
 * backend for an algorithm where the runtime's own signer is the faster one.
 * @module
 */
import { importWebCryptoSigner } from "../core/signer.ts";
import type { SigningBackend } from "../core/signer.ts";

/** The WebCrypto backend of this runtime. */
export function webCryptoBackend(): SigningBackend {
  return {
    name: "webcrypto",
    library: `Deno ${Deno.version.deno} WebCrypto`,
    importKey: importWebCryptoSigner,
  };
}
