/**
 * Files named on the command line: read whole (`-` is stdin) with one-line errors that say what
 * is wrong with the path, never with its contents.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { CommandIo } from "./spec.ts";

/** Reads the file at `path` (`-` is stdin); `what` names it in errors ("Key file"). */
export async function readInput(path: string, io: Pick<CommandIo, "readStdin">, what: string): Promise<string> {
  if (path === "-") return await io.readStdin();
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new AppError("not_found", `${what} "${path}" does not exist`);
    if (error instanceof Deno.errors.IsADirectory) {
      throw new AppError("bad_request", `${what} "${path}" is a directory`);
    }
    if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
      throw new AppError("forbidden", `${what} "${path}" is not readable`);
    }
    throw error;
  }
}
