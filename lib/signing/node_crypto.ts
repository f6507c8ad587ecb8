/**
 * The `node:crypto` signing backend, for EdDSA: the runtime's Node.js-compatible crypto holds
 * an Ed25519 key as a `KeyObject` whose key material lives in the runtime's native (Rust)
 * memory, expanded once at import. WebCrypto's Ed25519 expands the key again for every
 * signature and costs twice as much (`deno task bench`, micro benchmark `sign`). Ed25519 is
 * deterministic, so both sign the same bytes. The `KeyObject` is held in a private field and
 * never exported; each key is proven by a sign-then-verify before it is used.
 * @module
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { AppError } from "../core/errors.ts";
import { selfTest } from "../core/key_checks.ts";
import type { Alg } from "../core/key_material.ts";
import type { PrivateKeyParts } from "../core/private_key.ts";
import { checkSigningInput, type Signer, type SigningBackend } from "../core/signer.ts";

/** The algorithms this backend signs. */
export const NODE_CRYPTO_ALGS: readonly Alg[] = Object.freeze(["EdDSA"]);

function rejected(message: string): AppError {
  return new AppError("invalid_key", message);
}

/** One Ed25519 key held as a `KeyObject`. */
class NodeCryptoSigner implements Signer {
  readonly alg: Alg = "EdDSA";
  readonly backend = "node:crypto";
  #key: KeyObject | null;

  constructor(key: KeyObject) {
    this.#key = key;
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    try {
      checkSigningInput(data);
      if (this.#key === null) throw new AppError("no_signing_key", "The signing key was released; try again shortly");
      const signature = sign(null, data, this.#key);
      return Promise.resolve(new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): void {
    this.#key = null;
  }
}

/** The `node:crypto` backend of this runtime: EdDSA only. */
export function nodeCryptoBackend(): SigningBackend {
  return {
    name: "node:crypto",
    library: `Deno ${Deno.version.deno} node:crypto`,
    async importKey(key: PrivateKeyParts, alg: Alg): Promise<Signer> {
      const { kty, crv } = key.publicJwk;
      if (alg !== "EdDSA" || kty !== "OKP" || crv !== "Ed25519") {
        throw rejected(`This backend signs EdDSA with Ed25519 keys, not ${alg} with a key of type "${kty}"`);
      }
      let keyObject: KeyObject;
      try {
        // A view of the caller's DER, not a copy: the caller zeroes it after the import.
        const der = Buffer.from(key.pkcs8.buffer, key.pkcs8.byteOffset, key.pkcs8.byteLength);
        keyObject = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
      } catch (error) {
        throw rejected(
          `node:crypto could not read the key: ${error instanceof Error ? error.message.slice(0, 120) : ""}`,
        );
      }
      if (keyObject.asymmetricKeyType !== "ed25519") {
        throw rejected(`node:crypto read a ${keyObject.asymmetricKeyType} key, not Ed25519`);
      }
      const signer = new NodeCryptoSigner(keyObject);
      await selfTest((data) => signer.sign(data), key.publicJwk, alg);
      return signer;
    },
  };
}
