/**
 * Bounded reading of a byte stream: the first `max` bytes and no more, whatever the sender
 * sends, so a caller can tell "over a limit" (ask for `limit + 1`) without reading an endless
 * stream. The stream is cancelled once enough has arrived. No parsing, no decoding.
 * @module
 */

/**
 * The first `max` bytes of `stream` (fewer when it ends first); the rest is cancelled unread.
 *
 * @example
 * ```ts
 * const bytes = await readPrefix(new Blob(["hello world"]).stream(), 5); // "hello"
 * ```
 */
export async function readPrefix(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) (bytes.set(chunk, offset), offset += chunk.byteLength);
  return bytes.subarray(0, Math.min(size, max));
}
