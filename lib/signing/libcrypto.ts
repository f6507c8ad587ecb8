/**
 * Finds and opens the system's OpenSSL 3 `libcrypto` through `Deno.dlopen`: the symbol table
 * the OpenSSL backend uses (signing is the only non-blocking call, so it runs on the runtime's
 * blocking threads, off the JS thread; an inline twin serves a process with one core) and the
 * version check. Knows nothing of keys or JWS.
 * @module
 */

/**
 * The libcrypto functions we call. `buffer` parameters are JS-owned byte arrays that stay
 * referenced until the call returns; `EVP_DigestSign` is the only non-blocking one
 * (`EVP_DigestSign_inline` is the same function, called on the JS thread).
 */
const SYMBOLS = {
  OPENSSL_init_crypto: { parameters: ["u64", "pointer"], result: "i32" },
  OpenSSL_version_num: { parameters: [], result: "u64" },
  OpenSSL_version: { parameters: ["i32"], result: "pointer" },
  ERR_clear_error: { parameters: [], result: "void" },
  d2i_AutoPrivateKey: { parameters: ["pointer", "buffer", "i64"], result: "pointer" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_get_id: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_get_bits: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_get_size: { parameters: ["pointer"], result: "i32" },
  EVP_MD_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  EVP_MD_free: { parameters: ["pointer"], result: "void" },
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_MD_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_MD_CTX_copy_ex: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_DigestSignInit: { parameters: ["pointer", "buffer", "pointer", "pointer", "pointer"], result: "i32" },
  EVP_PKEY_CTX_set_rsa_padding: { parameters: ["pointer", "i32"], result: "i32" },
  EVP_PKEY_CTX_set_rsa_pss_saltlen: { parameters: ["pointer", "i32"], result: "i32" },
  EVP_PKEY_CTX_set_rsa_mgf1_md: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_DigestSign: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  /** The same function called on the JS thread: no hand-off, for a process that has one core. */
  EVP_DigestSign_inline: {
    name: "EVP_DigestSign",
    parameters: ["pointer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened library's functions. */
export type LibcryptoSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** An opened libcrypto. */
export interface Libcrypto {
  readonly symbols: LibcryptoSymbols;
  /** Where it was opened from (a path, or the bare name the system loader resolved). */
  readonly path: string;
  /** `OpenSSL_version(OPENSSL_VERSION)`, e.g. `OpenSSL 3.0.19 27 Jan 2026`. */
  readonly version: string;
  close(): void;
}

/**
 * Where libcrypto 3 lives on the systems we expect (Debian/Ubuntu multiarch, Fedora/RHEL,
 * Alpine, Homebrew), then the bare name for the system loader's own search.
 */
export const LIBCRYPTO_CANDIDATES: readonly string[] = Object.freeze([
  "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
  "/usr/lib/aarch64-linux-gnu/libcrypto.so.3",
  "/lib/x86_64-linux-gnu/libcrypto.so.3",
  "/lib/aarch64-linux-gnu/libcrypto.so.3",
  "/usr/lib64/libcrypto.so.3",
  "/lib64/libcrypto.so.3",
  "/usr/lib/libcrypto.so.3",
  "/lib/libcrypto.so.3",
  "/usr/local/lib/libcrypto.so.3",
  "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
  "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
  "libcrypto.so.3",
]);

/** OpenSSL 3.0.0 as `OpenSSL_version_num()` encodes it (0xMNN00PP0). */
const OPENSSL_3 = 0x30000000;
/**
 * `OPENSSL_INIT_NO_ATEXIT`: libcrypto must not free its global state in an exit handler while
 * the runtime's blocking threads that signed still hold per-thread state (a double free at exit).
 */
const OPENSSL_INIT_NO_ATEXIT = 0x00080000n;

/**
 * Opens the first candidate that loads and is OpenSSL 3 or newer. Throws an `Error` naming
 * what was tried when none is (the caller falls back to WebCrypto).
 */
export function openLibcrypto(candidates: readonly string[] = LIBCRYPTO_CANDIDATES): Libcrypto {
  const failures: string[] = [];
  for (const path of candidates) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch (error) {
      // Without the FFI permission no candidate can load: say so once.
      if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) throw error;
      failures.push(path);
      continue;
    }
    const number = Number(lib.symbols.OpenSSL_version_num());
    if (number < OPENSSL_3 || lib.symbols.OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, null) !== 1) {
      lib.close();
      failures.push(`${path} (version 0x${number.toString(16)}, need 3.0 or newer)`);
      continue;
    }
    const pointer = lib.symbols.OpenSSL_version(0);
    const version = pointer === null ? `OpenSSL 0x${number.toString(16)}` : Deno.UnsafePointerView.getCString(pointer);
    return { symbols: lib.symbols, path, version, close: () => lib.close() };
  }
  throw new Error(`No usable OpenSSL 3 libcrypto found (tried ${failures.join(", ")})`);
}
