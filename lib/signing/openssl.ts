/**
 * The OpenSSL signing backend: private keys live only in libcrypto's memory (an `EVP_PKEY` per
 * key, read from the PKCS#8 DER the key ring unsealed, which it zeroes right after) and every
 * signature is one `EVP_DigestSign` on a copy of a per-key context: non-blocking, so signing
 * runs off the JS thread and spreads over the cores, or inline on the JS thread when the
 * process has one core (the hand-off to another thread then only adds two context switches per
 * signature). RS256, PS256 (MGF1 SHA-256, salt 32), ES256 (DER turned into JOSE r‖s) and
 * EdDSA. Each key is proven by a sign-then-verify before it is used.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { selfTest } from "../core/key_checks.ts";
import type { Alg } from "../core/key_material.ts";
import type { PrivateKeyParts } from "../core/private_key.ts";
import { checkSigningInput, type Signer, type SigningBackend } from "../core/signer.ts";
import { derToJose } from "./ecdsa.ts";
import { type Libcrypto, type LibcryptoSymbols, openLibcrypto } from "./libcrypto.ts";

const EVP_PKEY_RSA = 6;
const EVP_PKEY_EC = 408;
const EVP_PKEY_ED25519 = 1087;
const RSA_PKCS1_PSS_PADDING = 6;
/** The RSA sizes this backend holds (the product accepts 2048–4096); others go to WebCrypto. */
const RSA_BITS = { min: 2048, max: 4096 } as const;
/** The largest signature this backend makes: RSA 4096. Output buffers are this size at most. */
const MAX_SIGNATURE = RSA_BITS.max / 8;

const KEY_TYPE: Readonly<Record<Alg, { kty: string; crv?: string; id: number }>> = Object.freeze({
  RS256: { kty: "RSA", id: EVP_PKEY_RSA },
  PS256: { kty: "RSA", id: EVP_PKEY_RSA },
  ES256: { kty: "EC", crv: "P-256", id: EVP_PKEY_EC },
  EdDSA: { kty: "OKP", crv: "Ed25519", id: EVP_PKEY_ED25519 },
});

function rejected(message: string): AppError {
  return new AppError("invalid_key", message);
}

/** Reads PKCS#8 DER (the caller's: not kept, not zeroed here) into an `EVP_PKEY`. */
function readPrivateKey(s: LibcryptoSymbols, der: Uint8Array): Deno.PointerValue {
  const cursor = new BigUint64Array([BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(der)))]);
  s.ERR_clear_error();
  return s.d2i_AutoPrivateKey(null, cursor, BigInt(der.byteLength));
}

/** One key held by libcrypto; closed when it leaves the key ring. */
class OpenSslSigner implements Signer {
  readonly alg: Alg;
  readonly backend = "openssl";
  #s: LibcryptoSymbols;
  #pkey: Deno.PointerValue;
  /** An initialised signing context that each signature copies (init costs more than a copy). */
  #template: Deno.PointerValue;
  #maxSignature: number;
  #inline: boolean;
  #inFlight = 0;
  #closed = false;
  #onRelease: () => void;

  constructor(
    s: LibcryptoSymbols,
    native: { pkey: Deno.PointerValue; template: Deno.PointerValue; inline: boolean },
    alg: Alg,
    onRelease: () => void,
  ) {
    this.#inline = native.inline;
    this.#s = s;
    this.#pkey = native.pkey;
    this.#template = native.template;
    this.alg = alg;
    this.#maxSignature = s.EVP_PKEY_get_size(native.pkey);
    this.#onRelease = onRelease;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    checkSigningInput(data);
    if (this.#closed) throw new AppError("no_signing_key", "The signing key was released; try again shortly");
    const s = this.#s;
    // One allocation per signature (length word, signature, input), owned for the whole native
    // call: a copy of the input that the caller cannot change or free under it.
    const buffer = new ArrayBuffer(8 + this.#maxSignature + Math.max(1, data.byteLength));
    const length = new BigUint64Array(buffer, 0, 1);
    const signature = new Uint8Array(buffer, 8, this.#maxSignature);
    const input = new Uint8Array(buffer, 8 + this.#maxSignature);
    length[0] = BigInt(this.#maxSignature);
    input.set(data);
    const ctx = s.EVP_MD_CTX_new();
    if (ctx === null) throw new AppError("internal", "OpenSSL could not allocate a signing context");
    this.#inFlight++;
    try {
      if (s.EVP_MD_CTX_copy_ex(ctx, this.#template) !== 1) {
        throw new AppError("internal", "OpenSSL could not copy the signing context");
      }
      const ok = this.#inline
        ? s.EVP_DigestSign_inline(ctx, signature, length, input, BigInt(data.byteLength))
        : await s.EVP_DigestSign(ctx, signature, length, input, BigInt(data.byteLength));
      if (ok !== 1) throw new AppError("internal", "OpenSSL could not sign");
    } finally {
      s.EVP_MD_CTX_free(ctx);
      this.#inFlight--;
      if (this.#closed && this.#inFlight === 0) this.#release();
    }
    const bytes = signature.subarray(0, Number(length[0]));
    return this.alg === "ES256" ? derToJose(bytes) : bytes.slice();
  }

  /** Signatures already started finish; the native key is freed after the last of them. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#inFlight === 0) this.#release();
  }

  #release(): void {
    if (this.#template !== null) this.#s.EVP_MD_CTX_free(this.#template);
    if (this.#pkey !== null) this.#s.EVP_PKEY_free(this.#pkey);
    this.#template = null;
    this.#pkey = null;
    this.#onRelease();
  }
}

/** Options of {@linkcode OpenSslBackend}. */
export interface OpenSslOptions {
  /**
   * Sign on the JS thread instead of the runtime's blocking threads. Default: when the process
   * may run on one core only (`navigator.hardwareConcurrency`, which follows CPU affinity).
   */
  inline?: boolean;
}

/** The OpenSSL backend over one opened libcrypto. */
export class OpenSslBackend implements SigningBackend {
  readonly name = "openssl";
  readonly library: string;
  readonly path: string;
  /** Whether signatures run on the JS thread (see {@linkcode OpenSslOptions.inline}). */
  readonly inline: boolean;
  #lib: Libcrypto;
  #sha256: Deno.PointerValue;
  /** Signers whose native key is not freed yet: the library stays open until they are. */
  #live = 0;
  #closing = false;

  constructor(lib: Libcrypto, options: OpenSslOptions = {}) {
    this.#lib = lib;
    this.inline = options.inline ?? navigator.hardwareConcurrency <= 1;
    this.library = lib.version;
    this.path = lib.path;
    // Fetched once: an implicit fetch on every context set-up costs a lookup each time.
    this.#sha256 = lib.symbols.EVP_MD_fetch(null, new TextEncoder().encode("SHA256\0"), null);
    if (this.#sha256 === null) throw new Error(`${lib.version} has no SHA-256 digest`);
  }

  async importKey(key: PrivateKeyParts, alg: Alg): Promise<Signer> {
    if (this.#closing) throw rejected("The OpenSSL backend is closed");
    const type = KEY_TYPE[alg];
    const { kty, crv } = key.publicJwk;
    if (kty !== type.kty || (type.crv !== undefined && crv !== type.crv)) {
      throw rejected(`A key of type "${kty}" cannot sign ${alg}`);
    }
    const s = this.#lib.symbols;
    const pkey = readPrivateKey(s, key.pkcs8);
    if (pkey === null) throw rejected("OpenSSL could not read the key");
    let template: Deno.PointerValue = null;
    try {
      if (s.EVP_PKEY_get_id(pkey) !== type.id) throw rejected(`OpenSSL read a key of another type than ${alg} needs`);
      const bits = s.EVP_PKEY_get_bits(pkey);
      if (type.id === EVP_PKEY_RSA && (bits < RSA_BITS.min || bits > RSA_BITS.max)) {
        throw rejected(`This backend holds RSA keys of ${RSA_BITS.min}–${RSA_BITS.max} bits, not ${bits}`);
      }
      if (s.EVP_PKEY_get_size(pkey) > MAX_SIGNATURE) throw rejected("The key's signatures are too large");
      template = this.#context(pkey, alg);
    } catch (error) {
      if (template !== null) s.EVP_MD_CTX_free(template);
      s.EVP_PKEY_free(pkey);
      throw error;
    }
    this.#live++;
    const signer = new OpenSslSigner(s, { pkey, template, inline: this.inline }, alg, () => {
      this.#live--;
      if (this.#closing && this.#live === 0) this.#finish();
    });
    try {
      // A key that cannot sign here never signs: the caller falls back to WebCrypto.
      await selfTest((data) => signer.sign(data), key.publicJwk, alg);
    } catch (error) {
      signer.close();
      throw error;
    }
    return signer;
  }

  #context(pkey: Deno.PointerValue, alg: Alg): Deno.PointerValue {
    const s = this.#lib.symbols;
    const ctx = s.EVP_MD_CTX_new();
    if (ctx === null) throw new AppError("internal", "OpenSSL could not allocate a signing context");
    const pctx = new BigUint64Array(1);
    const fail = (what: string) => {
      s.EVP_MD_CTX_free(ctx);
      return rejected(`OpenSSL refused the key: ${what}`);
    };
    if (s.EVP_DigestSignInit(ctx, pctx, alg === "EdDSA" ? null : this.#sha256, null, pkey) !== 1) {
      throw fail("signing set-up failed");
    }
    if (alg === "PS256") {
      const keyCtx = Deno.UnsafePointer.create(pctx[0]!);
      if (
        s.EVP_PKEY_CTX_set_rsa_padding(keyCtx, RSA_PKCS1_PSS_PADDING) !== 1 ||
        s.EVP_PKEY_CTX_set_rsa_mgf1_md(keyCtx, this.#sha256) !== 1 ||
        s.EVP_PKEY_CTX_set_rsa_pss_saltlen(keyCtx, 32) !== 1
      ) throw fail("PSS parameters were not accepted");
    }
    return ctx;
  }

  /** Native keys still held (signers not closed, or closed with signatures in flight). */
  get liveKeys(): number {
    return this.#live;
  }

  /**
   * Closes the library once every signer made here is released (close them first: a signer
   * left open keeps the library loaded). Idempotent.
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#live === 0) this.#finish();
  }

  #finish(): void {
    if (this.#sha256 !== null) this.#lib.symbols.EVP_MD_free(this.#sha256);
    this.#sha256 = null;
    this.#lib.close();
  }
}

/** Opens libcrypto (see `openLibcrypto`) and makes the backend over it. Throws when it cannot. */
export function openSslBackend(candidates?: readonly string[], options: OpenSslOptions = {}): OpenSslBackend {
  const lib = openLibcrypto(candidates);
  try {
    return new OpenSslBackend(lib, options);
  } catch (error) {
    lib.close();
    throw error;
  }
}
