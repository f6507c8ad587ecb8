/**
 * The machinery of `deno task bench`: finds (or installs) the load generator, pins the server
 * and the load generator to different cores, runs processes with their output in a file, reads
 * their memory from `/proc`, and drives `wrk` runs bounded in time. Knows nothing of the
 * scenarios; `bench/run.ts` composes them.
 * @module
 */

const LUA = new URL("./wrk_report.lua", import.meta.url).pathname;
const decoder = new TextDecoder();

/** Runs a short command to completion and returns its exit code and output. */
export async function capture(
  command: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).output();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

async function which(name: string): Promise<string | null> {
  const { code, stdout } = await capture("sh", ["-c", 'command -v "$1"', "sh", name]);
  return code === 0 && stdout.trim() !== "" ? stdout.trim() : null;
}

/** Where the load generator came from. */
export interface LoadGenerator {
  readonly path: string;
  readonly version: string;
  /** How it was found, for the report: "found on PATH", "installed with apt-get", "$WRK". */
  readonly how: string;
}

/**
 * Finds `wrk`: `$WRK`, then `PATH`, then installs Debian's package with `apt-get` when running
 * as root. Throws with instructions when none of that works.
 */
export async function findWrk(say: (line: string) => void): Promise<LoadGenerator> {
  const version = async (path: string) => {
    const { stdout, stderr } = await capture(path, ["--version"]);
    return (stdout + stderr).split("\n")[0]!.replace(/\s+Copyright.*$/, "").trim();
  };
  const given = Deno.env.get("WRK");
  if (given) return { path: given, version: await version(given), how: "from $WRK" };
  const found = await which("wrk");
  if (found !== null) return { path: found, version: await version(found), how: "found on PATH" };
  const apt = await which("apt-get");
  if (apt !== null && Deno.uid() === 0) {
    say("wrk is not installed: installing Debian's package (apt-get install -y wrk)");
    let result = await capture(apt, ["install", "-y", "-q", "wrk"], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    if (result.code !== 0) {
      say("apt-get install failed; running apt-get update once and retrying");
      await capture(apt, ["update", "-q"]);
      result = await capture(apt, ["install", "-y", "-q", "wrk"], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    }
    const installed = await which("wrk");
    if (result.code === 0 && installed !== null) {
      return { path: installed, version: await version(installed), how: "installed with apt-get install wrk" };
    }
    throw new Error(`could not install wrk with apt-get: ${result.stderr.trim().split("\n").pop()}`);
  }
  throw new Error(
    "the load generator wrk was not found: install it (Debian/Ubuntu: sudo apt-get install wrk; " +
      "macOS: brew install wrk) or set WRK=/path/to/wrk",
  );
}

/** Which cores the server and the load generator run on. */
export interface Pinning {
  /** Command prefix that pins the server (empty when pinning is unavailable). */
  readonly server: readonly string[];
  /** Command prefix that pins the load generator. */
  readonly load: readonly string[];
  readonly description: string;
}

function allowedCpus(): number[] {
  try {
    const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) => l.startsWith("Cpus_allowed_list:"));
    const cpus: number[] = [];
    for (const part of (line?.split(":")[1] ?? "").trim().split(",")) {
      const [from, to] = part.split("-").map(Number);
      if (from === undefined || Number.isNaN(from)) continue;
      for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
    }
    return cpus;
  } catch {
    return [];
  }
}

/**
 * Pins the server to the first allowed core and the load generator to the second, with
 * `taskset`, identically for our server and the references, so ratios compare like with like.
 */
export async function choosePinning(): Promise<Pinning> {
  const cpus = allowedCpus();
  const taskset = await which("taskset");
  if (taskset === null || cpus.length < 2) {
    return {
      server: [],
      load: [],
      description: taskset === null ? "not pinned (taskset not found)" : "not pinned (fewer than 2 cores)",
    };
  }
  const [server, load] = [String(cpus[0]), String(cpus[1])];
  return {
    server: [taskset, "-c", server],
    load: [taskset, "-c", load],
    description: `server on CPU ${server}, load generator on CPU ${load} (taskset)`,
  };
}

/** Resident memory of a process, in KiB, from `/proc/PID/status`. */
export interface Memory {
  /** VmRSS: resident now. */
  readonly rssKb: number;
  /** VmHWM: the highest resident size so far. */
  readonly hwmKb: number;
}

/** Reads VmRSS and VmHWM of `pid`, or null when `/proc` does not have them. */
export function memoryOf(pid: number): Memory | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    const memory = { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
    return Number.isNaN(memory.rssKb) ? null : memory;
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system, all threads) `pid` has used, in seconds, from `/proc/PID/stat`, or
 * null when `/proc` does not have it. Linux counts it in USER_HZ = 100 ticks per second.
 */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** A process started by {@linkcode spawnLogged}. */
export interface Proc {
  readonly pid: number;
  /** Where stdout and stderr go. */
  readonly logFile: string;
  /** The URL from the first `{"msg":"listening","url":...}` log line, when awaited. */
  readonly url: string;
  memory(): Memory | null;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
  readonly exited: Promise<Deno.CommandStatus>;
}

/** Options of {@linkcode spawnLogged}. */
export interface SpawnOptions {
  /** Prefix such as `taskset -c 0`. */
  pin?: readonly string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  /** Wait for the "listening" log line. Default true. */
  waitListening?: boolean;
  /** How long to wait for it. Default 60 s (a fresh clone installs npm packages first). */
  timeoutMs?: number;
}

function readHead(path: string, bytes = 256 * 1024): string {
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      const buffer = new Uint8Array(bytes);
      const read = file.readSync(buffer) ?? 0;
      return decoder.decode(buffer.subarray(0, read));
    } finally {
      file.close();
    }
  } catch {
    return "";
  }
}

/**
 * Starts `command` (pinned) with stdout and stderr in `logFile`, the way an operator's service
 * manager would capture them, and waits for its "listening" line. The process's PID is the
 * command's own (the shell and `taskset` exec it), so `/proc/PID` describes it.
 */
export async function spawnLogged(command: readonly string[], options: SpawnOptions): Promise<Proc> {
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" >"$0" 2>&1', options.logFile, ...(options.pin ?? []), ...command],
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const exited = child.status;
  let done = false;
  exited.then(() => (done = true));
  const stop = async (graceMs = 10_000) => {
    if (!done) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
    return (await exited).code;
  };
  let url = "";
  if (options.waitListening ?? true) {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const line = readHead(options.logFile).split("\n").find((l) => l.includes('"msg":"listening"'));
      if (line !== undefined) {
        url = JSON.parse(line).url;
        break;
      }
      if (done || Date.now() > deadline) {
        await stop(1000);
        throw new Error(
          `${command.join(" ")} did not start (${done ? "exited" : "timed out"}):\n${readHead(options.logFile, 4096)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return { pid: child.pid, logFile: options.logFile, url, memory: () => memoryOf(child.pid), stop, exited };
}

/** One load run's figures. Times in milliseconds. */
export interface LoadResult {
  readonly rps: number;
  readonly requests: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** Socket errors and timeouts. */
  readonly socketErrors: number;
  /** Responses that were not 2xx or 3xx. */
  readonly badStatus: number;
  /** Server CPU time per request, in microseconds (NaN when not measured). */
  readonly cpuUs: number;
}

/** Options of {@linkcode runWrk}. */
export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  method?: "GET" | "POST";
  body?: string;
  contentType?: string;
  /** An `Authorization` header value. */
  authorization?: string;
  pin?: readonly string[];
  /** The server's PID, to measure its CPU time per request. */
  serverPid?: number;
}

/** Runs one `wrk` load (one thread, fixed connections, bounded in time) and parses its report. */
export async function runWrk(wrk: LoadGenerator, options: WrkOptions): Promise<LoadResult> {
  const [command, ...args] = [
    ...(options.pin ?? []),
    wrk.path,
    "-t1",
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--timeout",
    "5s",
    "-s",
    LUA,
    options.url,
  ];
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    WRK_METHOD: options.method ?? "GET",
    WRK_BODY: options.body ?? "",
    WRK_CONTENT_TYPE: options.contentType ?? "",
    WRK_AUTHORIZATION: options.authorization ?? "",
  };
  const cpuBefore = options.serverPid === undefined ? null : cpuSecondsOf(options.serverPid);
  const result = await capture(command!, args, { env });
  const cpuAfter = options.serverPid === undefined ? null : cpuSecondsOf(options.serverPid);
  const line = result.stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (result.code !== 0 || line === undefined) {
    throw new Error(`wrk failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
  const report = JSON.parse(line.slice("WRK_JSON ".length));
  const seconds = report.duration_us / 1e6;
  const e = report.errors;
  return {
    rps: report.requests / seconds,
    requests: report.requests,
    seconds,
    p50: report.latency_us.p50 / 1000,
    p90: report.latency_us.p90 / 1000,
    p99: report.latency_us.p99 / 1000,
    max: report.latency_us.max / 1000,
    socketErrors: e.connect + e.read + e.write + e.timeout,
    badStatus: e.status,
    cpuUs: cpuBefore === null || cpuAfter === null ? NaN : (cpuAfter - cpuBefore) * 1e6 / report.requests,
  };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Several runs of one scenario, summarized by their medians. */
export interface Summary {
  readonly runs: readonly LoadResult[];
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Median server CPU time per request, in microseconds. */
  readonly cpuUs: number;
  readonly errors: number;
}

/** Summarizes `runs` by the median of each figure. */
export function summarize(runs: readonly LoadResult[]): Summary {
  return {
    runs,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuUs: median(runs.map((r) => r.cpuUs)),
    errors: runs.reduce((sum, r) => sum + r.socketErrors + r.badStatus, 0),
  };
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Polls `url` until it answers 200; resolves with the milliseconds since `startedAt`. */
export async function firstOk(url: string, startedAt: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status === 200) return performance.now() - startedAt;
    } catch {
      // not listening yet
    }
    if (performance.now() - startedAt > timeoutMs) throw new Error(`${url} did not answer 200 in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
