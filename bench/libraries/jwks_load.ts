/**
 * The JWKS load comparison of issue 11, in one run: five servers over the same database
 * (`jwks_server.ts`: static, bare, ours, hono, hono-lean), each pinned to the same core with
 * `taskset`, `wrk` on the other, 64 connections, interleaved rounds (the order rotates every
 * round), each run bounded in time. First checks that every server answers the same bytes and
 * headers (and 304 where ours does). Prints one Markdown table with the ratios of this run.
 *
 *     deno run -A bench/libraries/jwks_load.ts [--seconds 5] [--rounds 5] [--json FILE]
 *
 * Loopback only; every process it starts is stopped by its PID.
 * @module
 */
import { parseArgs } from "node:util";
import {
  choosePinning,
  findWrk,
  type LoadResult,
  median,
  type Memory,
  type Proc,
  runWrk,
  spawnLogged,
  summarize,
  type Summary,
} from "../harness.ts";
import { VERSIONS } from "./deps.ts";
import { type Mode, MODES } from "./jwks_server.ts";

const SERVER = new URL("./jwks_server.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const CONNECTIONS = 64;
const PATH = "/.well-known/jwks.json";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "5" },
    json: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
if (!(seconds >= 1 && seconds <= 30) || !(rounds >= 1 && rounds <= 9)) {
  throw new Error("--seconds 1..30, --rounds 1..9");
}

const say = (line: string) => console.log(`· ${line}`);
const pct = (share: number | undefined) => share === undefined ? "n/a" : `${Math.round(share * 100)}%`;
const wrk = await findWrk(say);
const pin = await choosePinning();
const dir = await Deno.makeTempDir({ prefix: "libeval-jwks-" });
const db = `${dir}/keys.db`;
const env: Record<string, string> = {};
for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
  const value = Deno.env.get(name);
  if (value !== undefined) env[name] = value;
}

const procs = new Map<Mode, Proc>();
const memory: Partial<Record<Mode, Memory | null>> = {};
const runs = new Map<Mode, LoadResult[]>(MODES.map((mode) => [mode, []]));
/**
 * Per run: the share of the server core busy outside the server process (other engineers' work on
 * this shared machine, and the kernel's loopback work for this run, which no process is charged for).
 */
const foreign = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
const serverCpu = pin.server.length === 3 ? Number(pin.server[2]) : null;

/** Busy ticks (USER_HZ) of one CPU so far, from /proc/stat. */
function busyTicks(cpu: number): number {
  const line = Deno.readTextFileSync("/proc/stat").split("\n").find((l) => l.startsWith(`cpu${cpu} `));
  const [, ...fields] = (line ?? "").trim().split(/\s+/).map(Number);
  const total = fields.slice(0, 8).reduce((sum, n) => sum + n, 0);
  return total - (fields[3] ?? 0) - (fields[4] ?? 0);
}

/** The headers that must be equal between servers (Date and the request id differ by nature). */
function headerSet(response: Response): string {
  return [...response.headers].filter(([name]) => name !== "date" && name !== "x-request-id")
    .map(([name, value]) => `${name}: ${value}`).sort().join("\n");
}

async function verify(): Promise<void> {
  const ours = await fetch(`${procs.get("ours")!.url}${PATH}`);
  const bytes = new Uint8Array(await ours.arrayBuffer());
  const headers = headerSet(ours);
  const etag = ours.headers.get("etag")!;
  for (const mode of MODES) {
    const response = await fetch(`${procs.get(mode)!.url}${PATH}`);
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.length !== bytes.length || !body.every((b, i) => b === bytes[i])) throw new Error(`${mode}: other bytes`);
    if (mode === "static") continue;
    if (headerSet(response) !== headers) throw new Error(`${mode}: other headers:\n${headerSet(response)}`);
    if (!/^[0-9a-f-]{36}$/.test(response.headers.get("x-request-id") ?? "")) throw new Error(`${mode}: no request id`);
    if (mode === "bare") continue;
    const cached = await fetch(`${procs.get(mode)!.url}${PATH}`, { headers: { "if-none-match": etag } });
    await cached.body?.cancel();
    if (cached.status !== 304) throw new Error(`${mode}: If-None-Match answered ${cached.status}`);
  }
  say(`all servers answer the same ${bytes.length} bytes and headers; ours, hono and hono-lean answer 304`);
}

try {
  say(`wrk ${wrk.version} (${wrk.how}); ${pin.description}; hono ${VERSIONS.hono}`);
  // "ours" first: it creates the database and its keys; the others open the same file.
  for (const mode of ["ours", ...MODES.filter((m) => m !== "ours")] as Mode[]) {
    procs.set(
      mode,
      await spawnLogged([Deno.execPath(), "run", "-A", "--config", CONFIG, SERVER, mode, db], {
        pin: pin.server,
        cwd: dir,
        env,
        logFile: `${dir}/${mode}.log`,
      }),
    );
  }
  await verify();
  const load = async (mode: Mode, secs: number) => {
    const before = serverCpu === null ? 0 : busyTicks(serverCpu);
    const result = await runWrk(wrk, {
      url: `${procs.get(mode)!.url}${PATH}`,
      connections: CONNECTIONS,
      seconds: secs,
      pin: pin.load,
      serverPid: procs.get(mode)!.pid,
    });
    if (serverCpu !== null) {
      const busy = (busyTicks(serverCpu) - before) / 100;
      const own = result.cpuUs * result.requests / 1e6;
      foreign.get(mode)!.push(Math.max(0, busy - own) / result.seconds);
    }
    return result;
  };
  for (const mode of MODES) await load(mode, 2);
  for (const list of foreign.values()) list.length = 0;
  for (let round = 0; round < rounds; round++) {
    const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
    for (const mode of order) runs.get(mode)!.push(await load(mode, seconds));
    const shown = order.map((m) =>
      `${m} ${Math.round(runs.get(m)!.at(-1)!.rps)} (outside ${pct(foreign.get(m)!.at(-1))})`
    );
    say(`round ${round + 1}/${rounds}: ${shown.join(", ")}`);
  }
  for (const [mode, proc] of procs) memory[mode] = proc.memory();
} finally {
  for (const proc of procs.values()) await proc.stop(2000);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

const summaries = new Map<Mode, Summary>(MODES.map((mode) => [mode, summarize(runs.get(mode)!)]));
const perRound = (a: Mode, b: Mode) => runs.get(a)!.map((run, i) => run.rps / runs.get(b)![i]!.rps);
const fixed = (n: number, digits = 2) => Number.isFinite(n) ? n.toFixed(digits) : "n/a";
const spread = (values: number[]) => `${fixed(Math.min(...values))}–${fixed(Math.max(...values))}`;
const lines = [
  `JWKS, ${CONNECTIONS} connections, ${rounds} × ${seconds} s per server, medians; ${pin.description}`,
  "",
  "| server | req/s | p50 ms | p99 ms | worst p99 ms | CPU µs/req | ×bare req/s (median of rounds) | ×bare per round | ×ours req/s (median of rounds) | ×ours CPU/req | CPU 0 busy outside the server | RSS MB | peak MB | errors |",
  "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
];
for (const mode of MODES) {
  const s = summaries.get(mode)!;
  const mem = memory[mode];
  lines.push(
    `| ${mode} | ${Math.round(s.rps)} | ${fixed(s.p50)} | ${fixed(s.p99)} | ${
      fixed(Math.max(...s.runs.map((r) => r.p99)))
    } | ${fixed(s.cpuUs, 1)} | ${fixed(median(perRound(mode, "bare")))} | ${spread(perRound(mode, "bare"))} | ${
      fixed(median(perRound(mode, "ours")))
    } | ${fixed(s.cpuUs / summaries.get("ours")!.cpuUs)} | ${pct(median(foreign.get(mode)!))} | ${
      mem ? fixed(mem.rssKb / 1024, 1) : "n/a"
    } | ${mem ? fixed(mem.hwmKb / 1024, 1) : "n/a"} | ${s.errors} |`,
  );
}
for (const mode of ["ours", "hono", "hono-lean"] as const) {
  const s = summaries.get(mode)!;
  const ratio = median(perRound(mode, "bare"));
  lines.push(
    "",
    `target for ${mode}: ×bare ${fixed(ratio)} (≥ 0.90: ${ratio >= 0.9 ? "pass" : "MISS"}), ` +
      `p99 ${fixed(s.p99)} ms (≤ 5 ms: ${s.p99 <= 5 ? "pass" : "MISS"})`,
  );
}
console.log(lines.join("\n"));
if (values.json) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify(
      {
        versions: VERSIONS,
        pinning: pin.description,
        seconds,
        rounds,
        summaries: Object.fromEntries(summaries),
        foreign: Object.fromEntries(foreign),
        memory,
      },
      null,
      2,
    ),
  );
}
