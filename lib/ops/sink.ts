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

/** Writes all of `bytes` to `stream`, however many calls that takes. */
function writeBytes(stream: SyncWriter, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
}

/** Writes all of `text` to `stream`, however many calls that takes. */
export function writeAll(stream: SyncWriter, text: string): void {
  writeBytes(stream, encoder.encode(text));
}

/** A buffered line sink. */
export interface LineSink {
  write(line: string): void;
  flush(): void;
}

/**
 * Buffers lines and writes them in batches, so logging stays off the hot path. Each line is
 * encoded into one reused byte buffer as it comes (no batch string to join and encode later)
 * and the buffer is written once it holds more than 16 KiB, or every 50 ms. A line too long for
 * the buffer is written on its own, after what was pending.
 */
export function stdoutSink(stream: SyncWriter, options: { maxBytes?: number; intervalMs?: number } = {}): LineSink {
  const maxBytes = options.maxBytes ?? 16 * 1024;
  // Room past the threshold, so the line that crosses it still fits.
  const buffer = new Uint8Array(maxBytes + Math.max(maxBytes, 4096));
  let filled = 0;
  const flush = () => {
    writeBytes(stream, buffer.subarray(0, filled));
    filled = 0;
  };
  /** Encodes `line` and a newline after what is pending; false (nothing kept) when it does not fit. */
  const append = (line: string): boolean => {
    const { read, written } = encoder.encodeInto(line, buffer.subarray(filled, buffer.length - 1));
    if (read < line.length) return false;
    buffer[filled + written] = 0x0a;
    filled += written + 1;
    return true;
  };
  const timer = setInterval(flush, options.intervalMs ?? 50);
  Deno.unrefTimer(timer);
  return {
    write(line) {
      if (!append(line)) {
        flush();
        if (!append(line)) return writeAll(stream, line + "\n");
      }
      if (filled > maxBytes) flush();
    },
    flush,
  };
}
