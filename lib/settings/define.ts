/**
 * How a setting is declared: the {@linkcode Setting} shape every entry of the settings table
 * has, the parse failure type, and the small parsers the entries share. No setting lives here.
 * @module
 */
import { parseDuration } from "../core/units.ts";

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A user created or updated at start. */
export interface SeedUser {
  readonly username: string;
  readonly password: string;
}

/**
 * Which commands take a setting: `serve` only, or every command that opens the database
 * (`db`, which `serve` is one of).
 */
export type Scope = "serve" | "db";

/** A value the parser refuses: `why` follows the setting's name; `show` echoes the value. */
export class Invalid extends Error {
  constructor(readonly why: string, readonly show = true) {
    super(why);
  }
}

/** One setting. `T` is its parsed value. */
export interface Setting<T> {
  /** Long flag without `--`; null for a secret that must never be on a command line. */
  readonly flag: string | null;
  readonly short?: string;
  /** Environment variables (and `.env` keys), first found wins. */
  readonly env: readonly string[];
  /** Placeholder of the value in help (`N`, `DURATION`); empty for a boolean flag. */
  readonly arg: string;
  /** One line of help; says the default. */
  readonly help: string;
  readonly scope: Scope;
  /** Repeatable flag (the environment variable is comma-separated). */
  readonly multiple?: boolean;
  /** Never echo the value in an error. */
  readonly secret?: boolean;
  readonly fallback: T;
  /** Parses the text; throws {@linkcode Invalid}. */
  readonly parse: (text: string) => T;
}

/** Declares one setting (frozen). */
export const setting = <T>(spec: Setting<T>): Setting<T> => Object.freeze(spec);

/** A master secret read from `env` only (never a flag, so never in argv), redacted, unset by default. */
export function envSecret(env: string, help: string): Setting<string | null> {
  return setting({
    flag: null,
    env: [env],
    arg: "SECRET",
    help,
    scope: "db",
    secret: true,
    fallback: null,
    parse: (text) => text,
  });
}

/** A duration parser in seconds with a minimum. */
export function duration(min: number): (text: string) => number {
  return (text) => {
    const seconds = parseDuration(text);
    if (seconds === null) throw new Invalid("expected a duration such as 900, 15m, 1h or 7d");
    if (seconds < min) throw new Invalid(`must be at least ${min} seconds`);
    return seconds;
  };
}

/** A duration parser in milliseconds (`500ms`, `10s`, `2m`; bare numbers are seconds) with a minimum. */
export function millis(minMs: number): (text: string) => number {
  return (text) => {
    const seconds = parseDuration(text);
    if (seconds === null) throw new Invalid("expected a duration such as 500ms, 10s or 2m");
    const ms = Math.round(seconds * 1000);
    if (ms < minMs) throw new Invalid(`must be at least ${minMs} ms`);
    return ms;
  };
}

/** An integer parser within bounds. */
export function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new Invalid(`expected an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/** A parser that takes one of `values`. */
export function oneOf<T extends string>(values: readonly T[], describe: string): (text: string) => T {
  return (text) => {
    if (!(values as readonly string[]).includes(text)) throw new Invalid(`expected ${describe}`);
    return text as T;
  };
}
