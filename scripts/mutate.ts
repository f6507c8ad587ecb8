/**
 * `deno task mutate`: our own mutation runner (no mutation tool drives `deno test`). Each mutant
 * of `scripts/mutants.ts` swaps one exact snippet of one lib file, in a temporary copy of the
 * tree (never the working tree), and runs the tests that should notice: killed when they fail,
 * survived when they pass, invalid when the snippet is not found exactly once, the mutated file
 * does not type-check, or the tests fail without the mutation. Prints every survivor and the
 * score; exits 1 below the threshold or when a mutant is invalid.
 *
 *     deno task mutate [--only ID[,ID…]] [--jobs N] [--timeout SECONDS] [--threshold PERCENT] [--why]
 *
 * `--why` names, for each killed mutant, the tests that failed.
 *
 * Offline: the copies share this tree's node_modules and Deno's cache (`--cached-only`).
 * @module
 */
import { parseArgs } from "node:util";
import { defaultTests, type Mutant, MUTANTS } from "./mutants.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** What each copy holds: everything the tests import, read or spawn. */
const COPIED = ["lib", "tests", "scripts", "torture", "main.ts", "deno.json", "deno.lock"];

type Outcome = "killed" | "survived" | "invalid";

interface Result {
  readonly mutant: Mutant;
  readonly outcome: Outcome;
  /** Why it is invalid, or "timeout" for a kill by the per-mutant timeout. */
  readonly detail: string;
  readonly seconds: number;
  /** For a kill: the tests that failed. */
  readonly failed?: readonly string[];
}

interface Options {
  readonly jobs: number;
  readonly timeoutMs: number;
}

function usageError(message: string): never {
  console.error(`mutate: ${message}`);
  Deno.exit(2);
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: "string", multiple: true },
      jobs: { type: "string", default: "1" },
      timeout: { type: "string", default: "180" },
      threshold: { type: "string", default: "95" },
      why: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) usageError(`--${name} must be a positive number, not "${text}"`);
    return value;
  };
  const only = (values.only ?? []).flatMap((ids) => ids.split(",")).filter((id) => id !== "");
  for (const id of only) if (!MUTANTS.some((m) => m.id === id)) usageError(`no mutant "${id}"`);
  return {
    help: values.help === true,
    why: values.why === true,
    only,
    jobs: Math.floor(positive("jobs", values.jobs)),
    timeoutMs: positive("timeout", values.timeout) * 1000,
    threshold: positive("threshold", values.threshold),
  };
}

/** Runs `deno ARGS` in `cwd`, killed after `timeoutMs`; the exit code, or "timeout", and the output. */
async function deno(
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | "timeout"; out: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  const out = decoder.decode(output.stdout) + decoder.decode(output.stderr);
  return { code: timedOut ? "timeout" : output.code, out };
}

const testArgs = (files: readonly string[]) => ["test", "--no-check", "--cached-only", "-A", ...files];

/** The tests a `deno test` run reports as failed (`name => ./file:line:col`), once each. */
function failedTests(out: string): string[] {
  const names = [...out.matchAll(/^(.+) => \.\/(\S+):\d+:\d+$/gm)].map((m) => `${m[2]}: ${m[1]}`);
  return [...new Set(names)];
}

/** The last lines of a failing command's output that say why, for an invalid mutant. */
function why(out: string): string {
  const lines = out.split("\n").map((line) => line.trim()).filter((line) => /error|ERROR|FAILED/.test(line));
  return (lines.slice(0, 2).join(" | ") || out.trim().split("\n").slice(-2).join(" | ")).slice(0, 300);
}

/** A fresh copy of the tree in a temporary directory. */
async function copyTree(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "jwks-mutate-" });
  const cp = await new Deno.Command("cp", { args: ["-R", ...COPIED, dir], cwd: ROOT }).output();
  if (!cp.success) throw new Error(`cannot copy the tree: ${new TextDecoder().decode(cp.stderr)}`);
  await Deno.symlink(`${ROOT}node_modules`, `${dir}/node_modules`);
  return dir;
}

/** Applies, checks and tests one mutant in `dir`, then puts the file back. */
async function runMutant(mutant: Mutant, dir: string, options: Options, baseline: Map<string, string>) {
  const started = performance.now();
  const done = (outcome: Outcome, detail = ""): Result => ({
    mutant,
    outcome,
    detail,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  });
  const tests = mutant.tests ?? defaultTests(mutant.file);
  const broken = tests.map((file) => baseline.get(file)).find((problem) => problem !== undefined);
  if (broken !== undefined) return done("invalid", `the tests fail without the mutation: ${broken}`);
  const path = `${dir}/${mutant.file}`;
  const original = await Deno.readTextFile(path);
  const at = original.indexOf(mutant.find);
  if (at < 0) return done("invalid", "snippet not found");
  if (original.indexOf(mutant.find, at + 1) >= 0) return done("invalid", "snippet found more than once");
  await Deno.writeTextFile(path, original.slice(0, at) + mutant.replace + original.slice(at + mutant.find.length));
  try {
    const check = await deno(["check", "--cached-only", mutant.file], dir, options.timeoutMs);
    if (check.code !== 0) return done("invalid", `does not type-check: ${why(check.out)}`);
    const run = await deno(testArgs(tests), dir, options.timeoutMs);
    if (run.code === "timeout") return done("killed", "timeout");
    if (run.code === 0) return done("survived");
    return { ...done("killed"), failed: failedTests(run.out) };
  } finally {
    await Deno.writeTextFile(path, original);
  }
}

/** Runs every distinct test file once, unmutated: a file that fails already cannot judge a mutant. */
async function baselineOf(mutants: readonly Mutant[], dir: string, options: Options): Promise<Map<string, string>> {
  const files = [...new Set(mutants.flatMap((m) => m.tests ?? defaultTests(m.file)))].sort();
  const problems = new Map<string, string>();
  for (const file of files) {
    try {
      await Deno.stat(`${dir}/${file}`);
    } catch {
      problems.set(file, `${file} does not exist`);
      continue;
    }
  }
  const present = files.filter((file) => !problems.has(file));
  const run = await deno(testArgs(present), dir, options.timeoutMs * 2);
  if (run.code !== 0) {
    // Find which ones fail, one at a time (rare: the suite is green).
    for (const file of present) {
      const alone = await deno(testArgs([file]), dir, options.timeoutMs);
      if (alone.code !== 0) problems.set(file, `${file}: ${why(alone.out)}`);
    }
  }
  return problems;
}

async function main(): Promise<number> {
  const args = parse(Deno.args);
  if (args.help) {
    console.log(
      "Usage: deno task mutate [--only ID[,ID...]] [--jobs N] [--timeout SECONDS] [--threshold PERCENT] [--why]",
    );
    return 0;
  }
  const mutants = args.only.length === 0 ? MUTANTS : MUTANTS.filter((m) => args.only.includes(m.id));
  const options: Options = { jobs: Math.min(args.jobs, mutants.length), timeoutMs: args.timeoutMs };
  const started = performance.now();
  console.log(`mutate: ${mutants.length} mutants, ${options.jobs} at a time, ${args.timeoutMs / 1000} s each at most`);
  const dirs = await Promise.all(Array.from({ length: options.jobs }, copyTree));
  const results: Result[] = [];
  try {
    const baseline = await baselineOf(mutants, dirs[0]!, options);
    for (const [file, problem] of baseline) console.log(`baseline: ${file} fails unmutated: ${problem}`);
    const queue = [...mutants];
    await Promise.all(dirs.map(async (dir) => {
      for (let mutant = queue.shift(); mutant !== undefined; mutant = queue.shift()) {
        const result = await runMutant(mutant, dir, options, baseline);
        results.push(result);
        const detail = result.detail === "" ? "" : ` (${result.detail})`;
        console.log(`${result.outcome.toUpperCase().padEnd(8)} ${mutant.id.padEnd(36)} ${result.seconds}s${detail}`);
        if (args.why) { for (const test of result.failed ?? []) console.log(`         ✗ ${test}`); }
      }
    }));
  } finally {
    await Promise.all(dirs.map((dir) => Deno.remove(dir, { recursive: true })));
  }
  return report(results, args.threshold, (performance.now() - started) / 1000);
}

function report(results: readonly Result[], threshold: number, seconds: number): number {
  const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome);
  const [killed, survived, invalid] = [count("killed"), count("survived"), count("invalid")];
  const judged = killed.length + survived.length;
  const score = judged === 0 ? 0 : (100 * killed.length) / judged;
  console.log("");
  for (const r of survived) console.log(`survived: ${r.mutant.id} (${r.mutant.file}): ${r.mutant.description}`);
  for (const r of invalid) console.log(`invalid: ${r.mutant.id} (${r.mutant.file}): ${r.detail}`);
  console.log(
    `mutate: ${killed.length} killed, ${survived.length} survived, ${invalid.length} invalid: ` +
      `score ${score.toFixed(1)}% (threshold ${threshold}%) in ${Math.round(seconds)} s`,
  );
  return score < threshold || invalid.length > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
