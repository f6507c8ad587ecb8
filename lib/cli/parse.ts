/**
 * argv → a {@linkcode Command} from the command table, and the help text of every command,
 * generated from the table and the settings table. A typo'd option or command gets a
 * suggestion. Usage errors throw `AppError("usage")` (exit code 2). Parsing only: running is
 * the table's job.
 * @module
 */
import { parseArgs } from "node:util";
import { AppError } from "../core/errors.ts";
import { type Scope } from "../settings/define.ts";
import { settingsFor, settingsHelp } from "../settings.ts";
import { argsConfig, type Command, type CommandSpec, type OptionSpec } from "./spec.ts";

/** Edit distance with transpositions (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `candidates` to `word`, when it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : null;
}

/** The options a command accepts: its own and those of the settings of its scope. */
function optionsOf(spec: CommandSpec): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  if (spec.scope !== null) {
    for (const [, setting] of settingsFor(spec.scope)) {
      if (setting.flag === null) continue;
      out[setting.flag] = {
        type: setting.arg === "" ? "boolean" : "string",
        ...(setting.short ? { short: setting.short } : {}),
        ...(setting.multiple ? { multiple: true } : {}),
        help: setting.help,
      };
    }
  }
  return { ...out, ...spec.options };
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string {
  const rows = Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : "    "}--${name}${o.arg ? ` ${o.arg}` : ""}`,
    o.help,
  ]);
  const width = Math.max(...rows.map(([flag]) => flag!.length));
  return rows.map(([flag, help]) => `  ${flag!.padEnd(width)}  ${help}`).join("\n");
}

const SCOPE_TITLE: Readonly<Record<Scope, string>> = {
  serve: "Settings (flag, environment variable, what it sets)",
  db: "Database settings (use the server's; flag, environment variable, what it sets)",
};

/** The `--help` text of one command. */
export function commandHelp(spec: CommandSpec): string {
  const words = spec.name === "serve" ? "[serve]" : spec.name;
  const parts = [`Usage: jwks-server ${words}${spec.usage ? ` ${spec.usage}` : ""}`, "", spec.about];
  if (spec.options !== undefined && Object.keys(spec.options).length > 0) {
    parts.push("", "Options:", optionLines(spec.options));
  }
  if (spec.scope !== null) {
    parts.push(
      "",
      `${SCOPE_TITLE[spec.scope]}:`,
      settingsHelp(spec.scope),
      "",
      "Flags win over the environment, which wins over a .env file in the working directory.",
      "Durations: 900, 15m, 1h, 7d. Exit codes: 0 ok, 1 failure, 2 usage or configuration error.",
    );
  }
  return parts.join("\n");
}

/** The overview: every command with its summary. */
export function overview(table: readonly CommandSpec[]): string {
  const rows = table.map((spec) => [
    spec.name === "serve" ? "serve (default)" : `${spec.name}${spec.positionals?.length ? ` ${spec.usage}` : ""}`,
    spec.summary,
  ]);
  const width = Math.max(...rows.map(([left]) => left!.length));
  return [
    "jwks-server: a token issuer that publishes its signing keys as a JSON Web Key Set.",
    "",
    "Usage: jwks-server <command> [options]",
    "",
    "Commands:",
    ...rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`),
    "",
    'Run "jwks-server <command> --help" for the options of a command; --version prints the version.',
    "Exit codes: 0 ok, 1 failure, 2 usage or configuration error.",
  ].join("\n");
}

/** The help of a command group (`keys`, `users`): its subcommands. */
function groupHelp(table: readonly CommandSpec[], group: string): string {
  const members = table.filter((spec) => spec.name.startsWith(`${group} `));
  const usages = members.map((spec) =>
    spec.name.slice(group.length + 1) + (spec.positionals?.length ? ` ${spec.positionals.join(" ")}` : "")
  );
  return [
    `Usage: jwks-server ${group} ${usages.join("|")} [options]`,
    "",
    ...members.map((spec) =>
      `  ${`${spec.name}${spec.positionals?.length ? ` ${spec.positionals.join(" ")}` : ""}`.padEnd(24)}${spec.summary}`
    ),
    "",
    `Run "jwks-server ${group} <command> --help" for the options of each.`,
  ].join("\n");
}

/** The help text of `name` in `table`: a command, a group, or the overview. */
export function helpFor(table: readonly CommandSpec[], name: string): string {
  const spec = table.find((entry) => entry.name === name);
  if (spec !== undefined) return commandHelp(spec);
  if (table.some((entry) => entry.name.startsWith(`${name} `)) && name !== "") return groupHelp(table, name);
  const serve = table.find((entry) => entry.name === "serve");
  return serve === undefined ? overview(table) : `${overview(table)}\n\n${commandHelp(serve)}`;
}

/** The shape of a kid (base64url SHA-256 thumbprint), and the stand-in a dash-led one gets while options are parsed. */
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
const KID_MARK = "\u0000kid:";

/** Parses argv against `table`. Throws `AppError("usage")` with one line saying what is wrong. */
export function parseCommand(table: readonly CommandSpec[], argv: readonly string[]): Command {
  const first = argv[0];
  if (first === "--help" || first === "-h" || first === "help") return { name: "", args: [], flags: {}, help: true };
  if (first === "--version" || first === "-V") return { name: "version", args: [], flags: {}, help: false };
  const names = table.map((spec) => spec.name);
  const groups = new Set(names.filter((name) => name.includes(" ")).map((name) => name.split(" ")[0]!));
  let spec = table.find((entry) => entry.name === "serve")!;
  let rest = argv;
  if (first !== undefined && !first.startsWith("-")) {
    const second = argv[1];
    const two = table.find((entry) => entry.name === `${first} ${second ?? ""}`);
    const one = table.find((entry) => entry.name === first);
    if (two !== undefined) [spec, rest] = [two, argv.slice(2)];
    else if (one !== undefined) [spec, rest] = [one, argv.slice(1)];
    else if (groups.has(first)) {
      if (second === "--help" || second === "-h") return { name: first, args: [], flags: {}, help: true };
      if (second === undefined || second.startsWith("-")) {
        throw new AppError("usage", `Missing subcommand after "${first}"; run "jwks-server ${first} --help"`);
      }
      throw new AppError("usage", `Unknown command "${first} ${second}"; run "jwks-server ${first} --help"`);
    } else {
      const guess = closest(first, [...new Set(names.map((name) => name.split(" ")[0]!))]);
      const hint = guess === null ? "" : ` (did you mean "${guess}"?)`;
      throw new AppError("usage", `Unknown command "${first}"${hint}; run "jwks-server --help" for the list`);
    }
  }
  const options = optionsOf(spec);
  // A kid is an RFC 7638 thumbprint: 43 base64url characters, 1 in 64 of them led by "-". Such
  // an argument is never one of our options, so it is a value, as pasted from the JWKS.
  const kids: string[] = [];
  const args = rest.map((arg) =>
    THUMBPRINT.test(arg) && arg.startsWith("-") ? `${KID_MARK}${kids.push(arg) - 1}` : arg
  );
  const unmark = (value: string) => value.startsWith(KID_MARK) ? kids[Number(value.slice(KID_MARK.length))]! : value;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...argsConfig(options), help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(message);
    if (unknown !== null) {
      const guess = closest(unknown[1]!.replace(/^-+/, ""), Object.keys(options));
      const value = guess === null && (spec.positionals ?? []).length > 0;
      const hint = guess !== null
        ? `, did you mean '--${guess}'?`
        : value
        ? `; an argument that starts with "-" goes after "--", as in "jwks-server ${spec.name} -- ${
          rest.find((arg) => arg.startsWith(unknown[1]!)) ?? unknown[1]
        }"`
        : "";
      throw new AppError("usage", `Unknown option '${unknown[1]}'${hint} (see "jwks-server ${spec.name} --help")`);
    }
    throw new AppError("usage", `${message.split(". ")[0]} (see "jwks-server ${spec.name} --help")`);
  }
  parsed.positionals = parsed.positionals.map(unmark);
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    // Repeatable options are strings (`--seed-user`, `--scope`): a boolean is never repeated.
    values[name] = typeof value === "string"
      ? unmark(value)
      : Array.isArray(value)
      ? value.map((item) => unmark(String(item)))
      : value;
  }
  const { help, ...flags } = values;
  const positionals = spec.positionals ?? [];
  if (help === true) return { name: spec.name, args: parsed.positionals, flags, help: true };
  if (parsed.positionals.length > positionals.length) {
    throw new AppError(
      "usage",
      `Unexpected argument "${parsed.positionals[positionals.length]}" (see "jwks-server ${spec.name} --help")`,
    );
  }
  if (parsed.positionals.length < (spec.required ?? 0)) {
    throw new AppError(
      "usage",
      `Missing ${positionals[parsed.positionals.length]} (see "jwks-server ${spec.name} --help")`,
    );
  }
  return { name: spec.name, args: parsed.positionals, flags, help: false };
}
