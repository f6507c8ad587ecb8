/**
 * Files named on the command line: read whole but bounded (1 MiB unless the caller says; `-` is
 * stdin), with one-line errors that say what is wrong with the path, never with its contents.
 * A path such as `/dev/zero` or a FIFO that never ends is cut at the bound, not read forever.
 * @module
 */
import { readPrefix } from "../core/bytes.ts";
import { AppError } from "../core/errors.ts";
import type { CommandIo } from "./spec.ts";

/** The most bytes read from a file named on the command line, by default (1 MiB). */
export const MAX_INPUT_BYTES = 1024 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

const tooLarge = (what: string, path: string, limit: number) =>
  new AppError("payload_too_large", `${what} "${path}" is larger than ${limit} bytes`);

/** Reads at most `limit + 1` bytes of `file`. */
async function readBounded(file: Deno.FsFile, limit: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(limit + 1);
  let size = 0;
  while (size < buffer.byteLength) {
    const n = await file.read(buffer.subarray(size));
    if (n === null) break;
    size += n;
  }
  return buffer.subarray(0, size);
}

/**
 * The text of `stream` (stdin), reading at most `limit + 1` bytes when a limit is given, so a
 * caller can tell "over the limit" from "at the limit" without reading an endless stream.
 */
export async function readStream(stream: ReadableStream<Uint8Array>, limit = Infinity): Promise<string> {
  return new TextDecoder().decode(await readPrefix(stream, limit + 1));
}

/**
 * Reads the file at `path` (`-` is stdin) as UTF-8, at most `options.maxBytes` (default
 * {@linkcode MAX_INPUT_BYTES}); `what` names it in errors ("Key file").
 */
export async function readInput(
  path: string,
  io: Pick<CommandIo, "readStdin">,
  what: string,
  options: { maxBytes?: number } = {},
): Promise<string> {
  const limit = options.maxBytes ?? MAX_INPUT_BYTES;
  if (path === "-") {
    const text = await io.readStdin(limit);
    if (new TextEncoder().encode(text).byteLength > limit) throw tooLarge(what, path, limit);
    return text;
  }
  let bytes: Uint8Array;
  try {
    const file = await Deno.open(path, { read: true });
    try {
      if ((await file.stat()).isDirectory) throw new AppError("bad_request", `${what} "${path}" is a directory`);
      bytes = await readBounded(file, limit);
    } finally {
      file.close();
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof Deno.errors.NotFound) throw new AppError("not_found", `${what} "${path}" does not exist`);
    if (error instanceof Deno.errors.IsADirectory) {
      throw new AppError("bad_request", `${what} "${path}" is a directory`);
    }
    if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
      throw new AppError("forbidden", `${what} "${path}" is not readable`);
    }
    throw error;
  }
  if (bytes.byteLength > limit) throw tooLarge(what, path, limit);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AppError("bad_request", `${what} "${path}" is not UTF-8 text`);
  }
}
