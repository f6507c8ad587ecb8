/**
 * ECDSA signature encodings: OpenSSL returns the DER `ECDSA-Sig-Value`, JWS wants the fixed-size
 * r‖s form (RFC 7518 §3.4). Strict: anything but one well-formed DER value is refused.
 * @module
 */
import { AppError } from "../core/errors.ts";

/**
 * Converts an ECDSA `SEQUENCE { r INTEGER, s INTEGER }` (DER) into the JOSE form: r and s as
 * unsigned big-endian integers of `size` bytes each, concatenated (RFC 7518 §3.4).
 */
export function derToJose(der: Uint8Array, size = 32): Uint8Array {
  const bad = () => new AppError("internal", "OpenSSL returned a malformed ECDSA signature");
  let i = 0;
  if (der[i++] !== 0x30) throw bad();
  let length = der[i++] ?? -1;
  if (length === 0x81) length = der[i++] ?? -1;
  if (length < 0 || length >= 0x80 && der[i - 2] !== 0x81 || i + length !== der.length) throw bad();
  const out = new Uint8Array(2 * size);
  for (let part = 0; part < 2; part++) {
    if (der[i++] !== 0x02) throw bad();
    const n = der[i++] ?? 0;
    if (n < 1 || n > size + 1 || i + n > der.length) throw bad();
    let value = der.subarray(i, i + n);
    i += n;
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw bad();
    out.set(value, part * size + size - value.length);
  }
  if (i !== der.length) throw bad();
  return out;
}
