/**
 * The password hasher: Argon2id through `@node-rs/argon2`, whose async calls run on native
 * worker threads, off the thread that serves requests. Parameters are at least OWASP's
 * (m = 19 MiB, t = 2, p = 1). Wraps nothing else; the concurrency cap lives in `users.ts`. The
 * native addon loads on the first hash (~55 ms), so a start or a command that hashes nothing
 * does not pay for it.
 * @module
 */
import type { Hasher } from "./hash_queue.ts";

let addon: Promise<typeof import("@node-rs/argon2")> | null = null;
const argon2 = () => addon ??= import("@node-rs/argon2");

/** Argon2id cost parameters. */
export interface Argon2Options {
  /** Memory in KiB. Default 19456 (19 MiB). */
  memoryCost?: number;
  /** Passes. Default 2. */
  timeCost?: number;
}

/** Argon2id's algorithm id in `@node-rs/argon2`. */
const ARGON2ID = 2;

/** Makes an Argon2id {@linkcode Hasher}. */
export function argon2Hasher(options: Argon2Options = {}): Hasher {
  const params = {
    algorithm: ARGON2ID,
    memoryCost: Math.max(19_456, options.memoryCost ?? 19_456),
    timeCost: Math.max(2, options.timeCost ?? 2),
    parallelism: 1,
  };
  return {
    hash: async (password) => (await argon2()).hash(password, params),
    async verify(encoded, password) {
      const { verify } = await argon2();
      try {
        return await verify(encoded, password);
      } catch {
        // A malformed stored hash never matches; it must not look like a server fault.
        return false;
      }
    },
  };
}
