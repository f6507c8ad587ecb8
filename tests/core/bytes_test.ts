import assert from "node:assert/strict";
import { readPrefix } from "../../lib/core/bytes.ts";

/** A stream of `chunks`, recording whether it was cancelled and how many chunks were pulled. */
function source(chunks: string[]) {
  const seen = { pulled: 0, cancelled: false };
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[seen.pulled++];
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("readPrefix() returns the first max bytes across chunks and stops pulling there", async (t) => {
  await t.step("a stream shorter than max is read whole", async () => {
    const { stream } = source(["ab", "cd"]);
    assert.equal(text(await readPrefix(stream, 10)), "abcd");
  });
  await t.step("a longer stream is cut at max, mid-chunk, and the rest is cancelled unread", async () => {
    const { stream, seen } = source(["abc", "def", "ghi", "jkl"]);
    assert.equal(text(await readPrefix(stream, 5)), "abcde");
    assert.equal(seen.pulled, 2, "no chunk is pulled once max bytes arrived");
    assert.equal(seen.cancelled, true);
  });
  await t.step("an endless stream ends at max", async () => {
    const endless = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(new Uint8Array(1000)) });
    assert.equal((await readPrefix(endless, 4097)).byteLength, 4097);
  });
  await t.step("max 0 reads nothing; Infinity reads all", async () => {
    assert.equal((await readPrefix(source(["x"]).stream, 0)).byteLength, 0);
    assert.equal(text(await readPrefix(source(["x", "y"]).stream, Infinity)), "xy");
  });
});
