import assert from "node:assert/strict";
import { stdoutSink, type SyncWriter, writeAll } from "../../lib/ops/sink.ts";

/** A stream that takes at most `max` bytes per call, keeping every call. */
function stream(max = Infinity): SyncWriter & { calls: Uint8Array[]; text(): string } {
  const calls: Uint8Array[] = [];
  return {
    calls,
    writeSync(bytes) {
      const taken = bytes.slice(0, Math.min(max, bytes.length));
      calls.push(taken);
      return taken.length;
    },
    text: () => new TextDecoder().decode(new Uint8Array(calls.flatMap((call) => [...call]))),
  };
}

Deno.test("writeAll() keeps writing until every byte is taken", () => {
  const out = stream(3);
  writeAll(out, "héllo wörld");
  assert.equal(out.text(), "héllo wörld");
  assert.equal(out.calls.length, Math.ceil(new TextEncoder().encode("héllo wörld").length / 3));
  const empty = stream();
  writeAll(empty, "");
  assert.equal(empty.calls.length, 0);
});

Deno.test("stdoutSink() buffers lines and writes them in one batch past its size or on flush", () => {
  const out = stream();
  const sink = stdoutSink(out, { maxBytes: 20, intervalMs: 60_000 });
  sink.write("first");
  sink.write("second");
  assert.equal(out.calls.length, 0, "nothing is written while the batch is small");
  sink.write("third line");
  assert.equal(out.calls.length, 1, "crossing the size writes the batch");
  assert.equal(out.text(), "first\nsecond\nthird line\n");
  sink.write("tail");
  sink.flush();
  assert.equal(out.text(), "first\nsecond\nthird line\ntail\n");
  sink.flush();
  assert.equal(out.calls.length, 2, "an empty flush writes nothing");
});

Deno.test("stdoutSink() writes pending lines on its timer", async () => {
  const out = stream();
  const written = Promise.withResolvers<void>();
  const sink = stdoutSink({ writeSync: (bytes) => (queueMicrotask(written.resolve), out.writeSync(bytes)) }, {
    intervalMs: 5,
  });
  sink.write("later");
  // The timer is unref'd: keep the test alive until it fires (an event, not a fixed sleep).
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await written.promise;
  } finally {
    clearInterval(keepAlive);
  }
  assert.equal(out.text(), "later\n");
});

Deno.test("stdoutSink() keeps lines whole and in order across batches, multi-byte text and overlong lines", () => {
  const out = stream(7);
  const sink = stdoutSink(out, { maxBytes: 16, intervalMs: 60_000 });
  const lines = ["ünïcødé ✓", "x".repeat(15), "😀".repeat(9), "y".repeat(5000), "", "tail"];
  for (const line of lines) sink.write(line);
  sink.flush();
  assert.equal(out.text(), lines.map((line) => line + "\n").join(""));
  const big = stream();
  const wide = stdoutSink(big, { intervalMs: 60_000 });
  wide.write("a".repeat(100_000));
  assert.equal(big.text(), "a".repeat(100_000) + "\n", "a line longer than the buffer is written at once");
});
