/**
 * The configuration reference (docs/configuration.md), generated from the settings table so it
 * cannot drift from what the program accepts: one row per setting with its flag, environment
 * variable, default and meaning, the server's settings apart from those every command takes.
 * `scripts/docs.ts` writes the file; `tests/settings/reference_test.ts` checks it is current.
 * @module
 */
import type { Scope, Setting } from "./define.ts";

/** Text fit for a Markdown table cell. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("<", "\\<");
}

/** A setting's row: flag, variables, default, meaning (the default taken out of the help line). */
function row(spec: Setting<unknown>): string {
  const flag = spec.flag === null ? "(environment only)" : `\`--${spec.flag}${spec.arg ? ` ${spec.arg}` : ""}\``;
  const fallback = /\(default ([^)]*)\)/.exec(spec.help)?.[1];
  const meaning = spec.help.replace(/\s*\(default [^)]*\)/, "");
  const env = spec.env.map((name) => `\`${name}\``).join(", ");
  return `| ${cell(flag)} | ${env} | ${fallback === undefined ? "" : cell(fallback)} | ${cell(meaning)} |`;
}

const HEAD = ["| flag | environment | default | meaning |", "| --- | --- | --- | --- |"];

/** The Markdown of docs/configuration.md for `settings` (before `deno fmt` aligns the tables). */
export function configurationReference(settings: Readonly<Record<string, Setting<unknown>>>): string {
  const of = (scope: Scope) => Object.values(settings).filter((spec) => spec.scope === scope).map(row);
  return [
    "# Configuration",
    "",
    "<!-- Generated from the settings table (lib/settings/) by `deno run -A scripts/docs.ts`; do not edit. -->",
    "",
    "Flags win over environment variables, which win over a `.env` file in the working directory, which wins over the",
    "defaults. An invalid value stops the program at start with one line naming the setting, exit code 2. Durations",
    "are `900` (seconds), `90s`, `15m`, `1h` or `7d`. Secrets (`NOT_MY_KEY`, `NOT_MY_KEY_PREVIOUS`, `NEW_NOT_MY_KEY`,",
    "`ADMIN_TOKEN`) have no flag, so they never appear in a process list, and no error message repeats them.",
    "",
    "## Every command that opens the database",
    "",
    "`serve`, `keys …`, `users add`, `probe`, `secret rotate`, `backup` and `restore` take these, and read them the same",
    "way, so a command finds the server's database and opens it with the server's secret. The key settings",
    "(`--alg`, `--rotate-every`, `--token-ttl`, `--clock-skew`, `--key-retention`) are stored with the keys by the",
    "server; the `keys` commands plan with the stored ones unless given others, and say when one differs.",
    "",
    ...HEAD,
    ...of("db"),
    "",
    "## The server only",
    "",
    ...HEAD,
    ...of("serve"),
    "",
  ].join("\n");
}
