/**
 * `deno task torture [PART...]`: the long reliability runs, one after another, against the real
 * program over loopback — `fuzz` (20,000 hostile requests), `hostile` (idle sockets past the
 * descriptor limit, slowloris, a 16-IP hashing flood, a lockout attempt: 15 s each), `crash`
 * (200 SIGKILL rounds), `two-writers` (3 minutes, two servers on one file), `soak` (10 minutes,
 * RSS and descriptors). Prints the seed first (SEED=… replays every part), each part's table,
 * then a summary; exits 1 when any part broke a promise. Sizes: FUZZ_REQUESTS, HOSTILE_SECONDS,
 * CRASH_ROUNDS, TWO_WRITERS_SECONDS, SOAK_SECONDS. One part alone: `deno task torture crash`
 * (the others: fuzz, hostile, two-writers, soak).
 * @module
 */
import { crashRows, runCrash } from "./crash.ts";
import { fuzzRows, runFuzz } from "./fuzz.ts";
import { table } from "./harness.ts";
import { hostileRows, runHostile } from "./hostile.ts";
import { seedFrom } from "./prng.ts";
import { runSoak, soakRows } from "./soak.ts";
import { runTwoWriters, twoWritersRows } from "./two_writers.ts";

interface Part {
  /** Runs the part; returns its table rows, its failures and a one-line figure for the summary. */
  run(seed: number): Promise<{
    rows: [string, string | number][];
    failures: readonly string[];
    /** One line for the summary. */
    figure: string;
    /** Lines printed after the part's table. */
    notes: string[];
  }>;
}

const env = Deno.env.toObject();
const size = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`Invalid ${name} "${env[name]}": expected a positive integer`);
  }
  return value;
};
const log = (line: string) => console.log(`  ${line}`);

/** A part from its runner, its table rows and its summary figure. */
function part<R extends { readonly failures: readonly string[] }>(
  run: (seed: number) => Promise<R>,
  rows: (report: R) => [string, string | number][],
  figure: (report: R) => string,
  notes: (report: R) => string[] = () => [],
): Part {
  return {
    async run(seed) {
      const report = await run(seed);
      return { rows: rows(report), failures: report.failures, figure: figure(report), notes: notes(report) };
    },
  };
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

const PARTS: Record<string, Part> = {
  fuzz: part(
    (seed) => runFuzz({ requests: size("FUZZ_REQUESTS", 20_000), seed, log }),
    fuzzRows,
    (report) => {
      const fivexx = Object.entries(report.byStatus).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
      return `${report.requests} requests (${report.raw} raw), ${fivexx} 5xx, ${report.seconds} s`;
    },
  ),
  hostile: part(
    (seed) => runHostile({ seconds: size("HOSTILE_SECONDS", 15), seed, log }),
    hostileRows,
    (report) => {
      const attacks = report.phases.filter((phase) => !phase.name.startsWith("baseline"));
      const p99 = Math.max(...attacks.map((phase) => phase.jwksP99Ms));
      const legit = attacks.filter((phase) => phase.legitSent > 0);
      const share = legit.reduce((n, p) => n + p.legitOk, 0) / Math.max(1, legit.reduce((n, p) => n + p.legitSent, 0));
      return `alive ${report.alive ? "yes" : "NO"}, worst JWKS p99 ${p99.toFixed(1)} ms, legitimate logins ${
        (share * 100).toFixed(1)
      }%, RSS peak ${mib(report.rssPeakKiB)} MiB`;
    },
  ),
  crash: part(
    (seed) => runCrash({ rounds: size("CRASH_ROUNDS", 200), seed, log }),
    crashRows,
    (report) =>
      `${report.rounds} kills, ${report.registered} users, ${report.tokensChecked} token checks, ${report.seconds} s`,
  ),
  "two-writers": part(
    (seed) => runTwoWriters({ seconds: size("TWO_WRITERS_SECONDS", 180), seed, log }),
    twoWritersRows,
    (report) =>
      `${report.seconds} s, ${report.requests} requests, ${report.rotations} rotations, max lag ${report.maxLagMs} ms`,
  ),
  soak: part(
    (seed) => runSoak({ seconds: size("SOAK_SECONDS", 600), seed, log }),
    soakRows,
    (report) =>
      `${report.requests} requests, RSS ${mib(report.baselineRssKiB)} → ${mib(report.finalRssKiB)} MiB (${
        (report.growth * 100).toFixed(1)
      }%), fds ${report.idleFdsBefore} → ${report.idleFdsAfter}`,
    (report) => [`RSS samples: ${report.samples.map((s) => `${s.t}s:${mib(s.rssKiB)}`).join(" ")}`],
  ),
};

const chosen = Deno.args.length === 0 ? Object.keys(PARTS) : Deno.args;
for (const name of chosen) {
  if (!(name in PARTS)) {
    console.error(`jwks-server torture: unknown part "${name}"; expected ${Object.keys(PARTS).join(", ")}`);
    Deno.exit(2);
  }
}
const seed = seedFrom(env);
console.log(`torture: seed ${seed} (replay: SEED=${seed} deno task torture ${chosen.join(" ")})`);
const summary: [string, string][] = [];
let failed = false;
for (const name of chosen) {
  console.log(`\n== ${name}`);
  const started = performance.now();
  const { rows, failures, figure, notes } = await PARTS[name]!.run(seed);
  const seconds = Math.round((performance.now() - started) / 1000);
  console.log(table(name, rows));
  for (const note of notes) console.log(note);
  for (const failure of failures) console.log(`FAIL ${failure}`);
  failed ||= failures.length > 0;
  summary.push([name, `${failures.length === 0 ? "ok" : `FAILED (${failures.length})`} in ${seconds} s: ${figure}`]);
}
console.log(`\n${table(`torture summary, seed ${seed}`, summary, ["part", "result"])}`);
Deno.exit(failed ? 1 : 0);
