/**
 * The CLI in-process, for the tests of `lib/cli/`: `cli(argv)` runs a command exactly as
 * `main.ts` does (parse, run, an `AppError` becomes its exit code and one stderr line) with
 * captured output, an injected clock, stdin and fetch; `workspace()` is a temporary directory
 * with a database path and the environment that points at it.
 * @module
 */
import assert from "node:assert/strict";
import { parseCommand, runCommand, type ServeIo } from "../../lib/cli/commands.ts";
import { exitCodeOf } from "../../lib/cli/spec.ts";
import { AppError } from "../../lib/core/errors.ts";
import { argon2AtMinimumCost, freshKey, type TestClock, testClock } from "./helpers.ts";

/** The master secret of every {@linkcode workspace}. */
export const SECRET = "commands test secret, 32 bytes!";

/** The JWKS URL of a test app answering through `fetchFrom(app)`. */
export const JWKS_URL = "http://127.0.0.1:8080/.well-known/jwks.json";

/** What a command printed and returned. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@linkcode cli}. */
export interface RunOptions {
  env?: Record<string, string>;
  dotenv?: Record<string, string>;
  clock?: TestClock;
  stdin?: string;
  fetch?: typeof fetch;
  serve?: ServeIo["serve"];
}

/** Runs a command in-process exactly as `main.ts` does, capturing its output. */
export async function cli(argv: string[], options: RunOptions = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: ServeIo = {
    env: options.env ?? {},
    ...(options.dotenv ? { dotenv: options.dotenv } : {}),
    clock: options.clock ?? testClock(),
    write: (text) => (stdout += text),
    warn: (line) => (stderr += `jwks-server: ${line}\n`),
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    hasher: argon2AtMinimumCost,
    generate: freshKey,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.serve ? { serve: options.serve } : {}),
  };
  try {
    const code = await runCommand(parseCommand(argv), io);
    return { code, stdout, stderr };
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
    return { code: exitCodeOf(error), stdout, stderr: stderr + `jwks-server: ${error.message}\n` };
  }
}

/** A temporary directory with a database path and the environment that points at it. */
export async function workspace(extra: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/keys.db`;
  return {
    dir,
    db,
    env: { JWKS_DB: db, NOT_MY_KEY: SECRET, JWKS_ALG: "ES256", ...extra },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
