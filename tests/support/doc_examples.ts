/**
 * The shell examples of a Markdown document, as `tests/e2e/docs_test.ts` runs them (its module
 * doc states the convention): the fenced blocks, their kind (`sh`, `sh background`,
 * `sh skip=REASON`), the commands in each (a trailing `\` continues a line), and each
 * command's expectation from a trailing `# → …` comment. Parsing only; no process here.
 * @module
 */

/** Why a shell block may be shown but not run. */
export const SKIP_REASONS: Readonly<Record<string, string>> = Object.freeze({
  internet: "downloads something (a release, a runtime) from the internet",
  suite: "runs the whole test suite or a benchmark, minutes long",
  placeholder: "names hosts or services of your own (a database server, a domain)",
});

/** What a command promises: its exit code, and text its output contains (`…` matches anything). */
export interface Expectation {
  readonly exit: number;
  readonly output: string | null;
}

/** One command of a block, with the line it starts on. */
export interface Command {
  readonly text: string;
  readonly line: number;
  readonly expect: Expectation;
}

/** One fenced shell block. */
export interface ShellBlock {
  readonly kind: "run" | "background" | "skip";
  /** The reason of a `skip` block. */
  readonly reason: string | null;
  readonly line: number;
  readonly commands: readonly Command[];
}

/** The index of a `#` starting a comment in `line` (outside quotes, after a blank), or -1. */
function commentStart(line: string): number {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "\\") i++;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return i;
  }
  return -1;
}

/** The expectation a trailing comment states: `# → exit 1: TEXT`, `# → TEXT`, or none (exit 0). */
export function expectationOf(comment: string): Expectation {
  const match = /^#\s*→\s*(.*)$/.exec(comment.trim());
  if (match === null) return { exit: 0, output: null };
  const exit = /^exit (\d+)(?::\s*(.*))?$/.exec(match[1]!.trim());
  if (exit !== null) return { exit: Number(exit[1]), output: exit[2]?.trim() || null };
  return { exit: 0, output: match[1]!.trim() };
}

/** True when `output` contains `expected`, where `…` in it matches any text within a line. */
export function outputMatches(output: string, expected: string): boolean {
  const pattern = expected.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[^\\n]*");
  return new RegExp(pattern).test(output);
}

/** Splits a block's lines into commands: `\` continues one, blank lines and comment lines are skipped. */
function commandsOf(lines: readonly string[], first: number): Command[] {
  const commands: Command[] = [];
  let text = "";
  let start = first;
  for (const [i, raw] of lines.entries()) {
    if (text === "" && (raw.trim() === "" || raw.trim().startsWith("#"))) continue;
    if (text === "") start = first + i;
    if (raw.endsWith("\\")) {
      text += raw + "\n";
      continue;
    }
    const at = commentStart(raw);
    const code = at < 0 ? raw : raw.slice(0, at).trimEnd();
    commands.push({ text: text + code, line: start, expect: expectationOf(at < 0 ? "" : raw.slice(at)) });
    text = "";
  }
  return commands;
}

/**
 * Every fenced block of `markdown` whose info string starts with `sh`, in order. Throws for a
 * shell block the runner would miss (indented) or cannot place (an unknown attribute or reason).
 */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split("\n");
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (fence === null) continue;
    const end = lines.findIndex((line, j) => j > i && /^\s*```\s*$/.test(line));
    if (end < 0) throw new Error(`line ${i + 1}: a fence that never closes`);
    const [, indent, lang, info] = fence;
    if (lang === "sh" || lang === "bash" || lang === "shell") {
      if (indent !== "" || lang !== "sh") {
        throw new Error(`line ${i + 1}: shell examples are \`\`\`sh blocks at the margin`);
      }
      const attr = info!.trim();
      const skip = /^skip=(\w+)$/.exec(attr);
      if (attr !== "" && attr !== "background" && skip === null) throw new Error(`line ${i + 1}: unknown "${attr}"`);
      if (skip !== null && SKIP_REASONS[skip[1]!] === undefined) {
        throw new Error(`line ${i + 1}: skip reason "${skip[1]}" is none of ${Object.keys(SKIP_REASONS).join(", ")}`);
      }
      blocks.push({
        kind: skip !== null ? "skip" : attr === "background" ? "background" : "run",
        reason: skip?.[1] ?? null,
        line: i + 1,
        commands: commandsOf(lines.slice(i + 1, end), i + 2),
      });
    }
    i = end;
  }
  return blocks;
}

/** The ports a document names (`127.0.0.1:8080`, `localhost:8081`, `--port 9000`), 8080 always. */
export function documentedPorts(blocks: readonly ShellBlock[]): number[] {
  const ports = new Set([8080]);
  for (const block of blocks) {
    for (const command of block.commands) {
      const text = `${command.text} ${command.expect.output ?? ""}`;
      for (const match of text.matchAll(/(?:127\.0\.0\.1|localhost):(\d{2,5})\b|--port[ =](\d{2,5})\b/g)) {
        ports.add(Number(match[1] ?? match[2]));
      }
    }
  }
  return [...ports];
}

/** `text` with each documented port replaced by the one the run uses. */
export function withPorts(text: string, ports: ReadonlyMap<number, number>): string {
  return text.replace(/((?:127\.0\.0\.1|localhost):|--port[ =])(\d{2,5})\b/g, (whole, head: string, port: string) => {
    const mapped = ports.get(Number(port));
    return mapped === undefined ? whole : `${head}${mapped}`;
  });
}
