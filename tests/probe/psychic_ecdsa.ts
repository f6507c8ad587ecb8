/**
 * A hand-rolled ECDSA P-256 verifier with the flaw behind CVE-2022-21449, for the probe's tests:
 * it checks r and s only against the group order, and not that they are at least 1 (it lets
 * r, s ≤ n through), so r = s = 0 (or n) meets the equation at the point at infinity. Correct
 * for every real signature. Slow affine BigInt arithmetic; never use it for anything else.
 * @module
 */

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const A = P - 3n;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: Point = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};

/** An affine point; null is the point at infinity. */
type Point = { x: bigint; y: bigint } | null;

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

/** The flawed inverse: Fermat's a^(m-2), which quietly maps 0 to 0 instead of failing. */
function fermatInverse(a: bigint, m: bigint): bigint {
  let result = 1n;
  let base = mod(a, m);
  for (let e = m - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = result * base % m;
    base = base * base % m;
  }
  return result;
}

function add(p: Point, q: Point): Point {
  if (p === null) return q;
  if (q === null) return p;
  if (p.x === q.x && mod(p.y + q.y, P) === 0n) return null;
  const slope = p.x === q.x
    ? mod((3n * p.x * p.x + A) * inverse(2n * p.y, P), P)
    : mod((q.y - p.y) * inverse(q.x - p.x, P), P);
  const x = mod(slope * slope - p.x - q.x, P);
  return { x, y: mod(slope * (p.x - x) - p.y, P) };
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

function bigint(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function coordinate(text: string): bigint {
  return bigint(Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0)));
}

/** Verifies a JWS ES256 signature (r ‖ s, 64 bytes) over `input` with the public JWK `jwk`, flawed as above. */
export async function psychicVerify(
  jwk: { x?: string; y?: string },
  signature: Uint8Array,
  input: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (signature.length !== 64 || jwk.x === undefined || jwk.y === undefined) return false;
  const r = bigint(signature.subarray(0, 32));
  const s = bigint(signature.subarray(32));
  if (r > N || s > N) return false; // the bug: should be 1 <= r, s < n
  const e = bigint(new Uint8Array(await crypto.subtle.digest("SHA-256", input)));
  const w = fermatInverse(s, N);
  const point = add(
    multiply(mod(e * w, N), G),
    multiply(mod(r * w, N), { x: coordinate(jwk.x), y: coordinate(jwk.y) }),
  );
  // The point at infinity has no x; treating it as 0 completes the bypass.
  return mod(point === null ? 0n : point.x, N) === mod(r, N);
}
