/**
 * A small seeded PRNG (mulberry32) for the reliability runs, so every random choice — kill
 * moments, fuzz requests, truncation points — can be replayed from the printed seed. Not for
 * anything secret.
 * @module
 */

/** A seeded random source. */
export interface Rng {
  /** The seed this source started from. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
  /** `length` random bytes. */
  bytes(length: number): Uint8Array<ArrayBuffer>;
  /** A new source derived from this one, for a part that must not shift the others' sequence. */
  fork(label: string): Rng;
}

/** Makes a mulberry32 source from a 32-bit seed. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    seed: seed >>> 0,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i += 4) {
        const word = Math.floor(next() * 4294967296);
        for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
      }
      return out;
    },
    fork: (label) => createRng(hashSeed(`${seed >>> 0}/${label}`)),
  };
  return rng;
}

/** A 32-bit seed from text (FNV-1a). */
export function hashSeed(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The seed to use: `SEED` from `env` when set (decimal or 0x-hex), else `fallback`, else a
 * random one. Throws on a `SEED` that is not a 32-bit number.
 */
export function seedFrom(env: Readonly<Record<string, string | undefined>>, fallback?: number): number {
  const text = env.SEED?.trim();
  if (text !== undefined && text !== "") {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new Error(`Invalid SEED "${text}": expected an integer from 0 to 4294967295`);
    }
    return value;
  }
  return fallback ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
}
