/**
 * Where log lines go: a buffered stdout sink that keeps writing off the hot path, and a
 * write-everything helper for synchronous streams. The stream is a parameter, so nothing here
 * reaches for the process's stdout on its own.
 * @module
 */

/** A stream that takes bytes synchronously (`Deno.stdout`, `Deno.stderr`). */
export interface SyncWriter {
  writeSync(bytes: Uint8Array): number;
}

const encoder = new TextEncoder();

/** Writes all of `text` to `stream`, however many calls that takes. */
export function writeAll(stream: SyncWriter, text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
}

/** A buffered line sink. */
export interface LineSink {
  write(line: string): void;
  flush(): void;
}

/**
 * Buffers lines and writes them in batches, so logging stays off the hot path. Lines are
 * appended to one string and written every 16 KiB (or 50 ms): small batches keep the line
 * strings young, so they die in the scavenger instead of being promoted and copied.
 */
export function stdoutSink(stream: SyncWriter, options: { maxBytes?: number; intervalMs?: number } = {}): LineSink {
  const maxBytes = options.maxBytes ?? 16 * 1024;
  let pending = "";
  const flush = () => {
    if (pending === "") return;
    const text = pending;
    pending = "";
    writeAll(stream, text);
  };
  const timer = setInterval(flush, options.intervalMs ?? 50);
  Deno.unrefTimer(timer);
  return {
    write(line) {
      pending += line + "\n";
      if (pending.length > maxBytes) flush();
    },
    flush,
  };
}
