/**
 * What a command is and what it may touch: the {@linkcode CommandSpec} every entry of the
 * command table has (name, options, help, run), the parsed {@linkcode Command}, and the
 * {@linkcode CommandIo} through which a command reaches the environment, the clock, stdin and
 * stdout. Also the small flag readers the commands share. No command lives here.
 * @module
 */
import type { ParseArgsOptionsConfig } from "node:util";
import { AppError } from "../core/errors.ts";
import type { Alg, KeyMaterial } from "../core/key_material.ts";
import { parseDuration } from "../core/units.ts";
import type { Scope } from "../settings/define.ts";
import type { Hasher } from "../users/hash_queue.ts";

/** A parsed command line. */
export interface Command {
  /** The command path, e.g. `serve` or `keys rotate`. */
  readonly name: string;
  /** Positional arguments after the command words. */
  readonly args: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | string[] | undefined>>;
  /** `--help` was asked for. */
  readonly help: boolean;
}

/** What a command may touch outside itself. */
export interface CommandIo {
  /** The environment variables (only those the program reads). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Variables from `.env`, when present. */
  readonly dotenv?: Readonly<Record<string, string>>;
  /** Unix milliseconds now. */
  readonly clock: () => number;
  /** Writes command output to stdout. */
  write(text: string): void;
  /** Writes one warning line to stderr. */
  warn(line: string): void;
  /**
   * Reads all of stdin (empty when stdin is a terminal or closed); with `maxBytes`, at most
   * that plus one byte, so an endless stdin is cut rather than read forever.
   */
  readStdin(maxBytes?: number): Promise<string>;
  /** For `verify`; the global `fetch` by default. */
  readonly fetch?: typeof fetch;
  /** For `users add`; Argon2id by default. */
  readonly hasher?: Hasher;
  /** Key generation, for tests; real keys by default. */
  readonly generate?: (alg: Alg) => Promise<KeyMaterial>;
}

/** One entry of the command table. */
export interface CommandSpec<IO extends CommandIo = CommandIo> {
  /** The command words, e.g. `keys rotate`. */
  readonly name: string;
  /** Arguments as the usage line shows them, e.g. `KID [--json]`. */
  readonly usage: string;
  /** One line for the overview. */
  readonly summary: string;
  /** What the command does, for its `--help`. */
  readonly about: string;
  /** The command's own options, with their help lines. */
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Which settings it takes (from `lib/settings.ts`), or none. */
  readonly scope: Scope | null;
  /** Names of the positional arguments, and how many are required. */
  readonly positionals?: readonly string[];
  readonly required?: number;
  /** Runs the command; returns its exit code, throws `AppError` on failure. */
  run(command: Command, io: IO): Promise<number>;
}

/** A command's own option. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  /** Placeholder of the value in help. */
  readonly arg?: string;
  readonly help: string;
}

/** The `parseArgs` options of `options`. */
export function argsConfig(options: Readonly<Record<string, OptionSpec>>): ParseArgsOptionsConfig {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    }]),
  );
}

/** The `--json` option most commands share. */
export const JSON_OPTION: Readonly<Record<string, OptionSpec>> = {
  json: { type: "boolean", help: "print JSON for scripts" },
};

/** A usage error naming the command's help. */
export function usage(command: Pick<Command, "name">, message: string): AppError {
  return new AppError("usage", `${message} (see "jwks-server ${command.name} --help")`);
}

/** The string flag `name`, or undefined. */
export function stringFlag(command: Command, name: string): string | undefined {
  const value = command.flags[name];
  return typeof value === "string" ? value : undefined;
}

/** The string flag `name`; a usage error when it is missing. */
export function requiredFlag(command: Command, name: string, what: string): string {
  const value = stringFlag(command, name);
  if (value === undefined || value === "") throw usage(command, `Missing --${name} ${what}`);
  return value;
}

/** The duration flag `name` in seconds, or `fallback`; a usage error when it is not a duration. */
export function durationFlag(command: Command, name: string, fallback: number, allowZero = false): number {
  const value = stringFlag(command, name);
  if (value === undefined) return fallback;
  const seconds = parseDuration(value);
  if (seconds === null || seconds < 0 || (seconds === 0 && !allowZero)) {
    throw usage(command, `Invalid --${name} "${value}": expected a duration such as 30s, 15m or 1h`);
  }
  return seconds;
}

/** Pretty JSON with a final newline, for `--json` output. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** The exit code for a failure: 2 for usage and configuration errors, 1 for everything else. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof AppError && ["usage", "invalid_config", "invalid_field"].includes(error.code)) return 2;
  return 1;
}
