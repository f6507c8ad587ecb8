/**
 * Every setting, declared once: its flag, its environment variable (also read from `.env`), its
 * default, its parser, its help line and which commands take it. Config parsing, the options
 * and help text of every command, and the `--allow-env` list are all generated from this table.
 * Flags win over the environment, which wins over `.env`; errors name the setting as the user
 * wrote it (`--port`, `PORT` or `PORT in .env`) and never echo a secret. Reads nothing itself.
 * @module
 */
import { parseEnv } from "node:util";
import { ConfigError } from "./core/errors.ts";
import { type LifecyclePolicy, lifecyclePolicy } from "./core/key_policy.ts";
import { DATABASE_SETTINGS } from "./settings/database.ts";
import { Invalid, type Scope, type Setting } from "./settings/define.ts";
import { OAUTH_SETTINGS } from "./settings/oauth.ts";
import { SERVING_SETTINGS } from "./settings/serving.ts";

/** The setting table. Add a setting to a group and every command, help text and permission follows. */
export const SETTINGS = Object.freeze({ ...DATABASE_SETTINGS, ...SERVING_SETTINGS, ...OAUTH_SETTINGS });

type Table = typeof SETTINGS;
/** The parsed value of every setting. */
export type Values = { readonly [K in keyof Table]: Table[K] extends Setting<infer T> ? T : never };

/** The validated configuration: every setting, plus what is derived from them. */
export interface Config extends Omit<Values, "issuer"> {
  /** `iss` of issued tokens: configured, or derived from host and port. */
  readonly issuer: string;
  /** Whether the issuer was configured (rather than derived from host and port). */
  readonly issuerSet: boolean;
  /** The settings given by a flag, the environment or `.env` (the others have their defaults). */
  readonly given: readonly (keyof Values)[];
  /** Key lifecycle timing and algorithm. */
  readonly policy: LifecyclePolicy;
}

/** Flags as parsed from the command line; unknown names are ignored. */
export type Flags = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/** The settings a command of `scope` takes: `serve` takes them all, the others the `db` ones. */
export function settingsFor(scope: Scope): [keyof Table, Setting<unknown>][] {
  return (Object.entries(SETTINGS) as [keyof Table, Setting<unknown>][])
    .filter(([, spec]) => scope === "serve" || spec.scope === "db");
}

/** Every environment variable the program reads (for the compiled binary's `--allow-env`). */
export const ENV_VARS: readonly string[] = Object.freeze(Object.values(SETTINGS).flatMap((spec) => spec.env));

/** Parses the text of a `.env` file (`node:util`'s parser: comments, quotes, `export`). */
export function parseDotenv(text: string): Record<string, string> {
  return { ...parseEnv(text) } as Record<string, string>;
}

/**
 * Builds the {@linkcode Config} from a command's flags, the process environment and the `.env`
 * file's variables. Every setting is read and checked, also by commands that take only some of
 * them as flags: a command on the database fails on the same bad setting the server would.
 * Throws {@linkcode ConfigError} naming the first bad setting.
 */
export function loadConfig(
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
  dotenv: Readonly<Record<string, string>> = {},
): Config {
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [key, spec] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    values[key] = spec.fallback;
    const source = pick(spec, flags, env, dotenv);
    if (source === null) continue;
    given.add(key);
    try {
      values[key] = spec.parse(source.value);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      const shown = error.show && !spec.secret ? ` "${source.value}"` : "";
      throw new ConfigError(`Invalid ${source.name}${shown}: ${error.why}`);
    }
  }
  const v = values as unknown as Values;
  const host = v.hostname.includes(":") && !v.hostname.startsWith("[") ? `[${v.hostname}]` : v.hostname;
  let policy: LifecyclePolicy;
  try {
    const { rotationInterval, tokenTtl, clockSkew, retention, alg } = v;
    policy = lifecyclePolicy({ rotationInterval, tokenTtl, clockSkew, retention, alg });
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  return Object.freeze({
    ...v,
    issuer: v.issuer ?? `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${v.port}`,
    issuerSet: given.has("issuer"),
    given: Object.freeze([...given] as (keyof Values)[]),
    policy,
  });
}

function pick(
  spec: Setting<unknown>,
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
  dotenv: Readonly<Record<string, string>>,
): { value: string; name: string } | null {
  const flag = spec.flag === null ? undefined : flags[spec.flag];
  if (typeof flag === "string") return { value: flag, name: `--${spec.flag}` };
  if (typeof flag === "boolean") return { value: String(flag), name: `--${spec.flag}` };
  if (Array.isArray(flag) && flag.length > 0) return { value: flag.join(","), name: `--${spec.flag}` };
  for (const name of spec.env) {
    const value = env[name];
    if (value !== undefined && value !== "") return { value, name };
  }
  for (const name of spec.env) {
    const value = dotenv[name];
    if (value !== undefined && value !== "") return { value, name: `${name} in .env` };
  }
  return null;
}

/** The help lines of the settings a command of `scope` takes, aligned. */
export function settingsHelp(scope: Scope): string {
  const rows = settingsFor(scope).map(([, spec]) => {
    const flag = spec.flag === null
      ? "(environment only)"
      : `${spec.short ? `-${spec.short}, ` : "    "}--${spec.flag}${spec.arg ? ` ${spec.arg}` : ""}`;
    return [flag, spec.env.join(", "), spec.help];
  });
  const w0 = Math.max(...rows.map((row) => row[0]!.length));
  const w1 = Math.max(...rows.map((row) => row[1]!.length));
  return rows.map(([a, b, c]) => `  ${a!.padEnd(w0)}  ${b!.padEnd(w1)}  ${c}`).join("\n");
}
