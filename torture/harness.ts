/**
 * Process and HTTP plumbing for the reliability runs: spawns the real program (`main.ts serve`)
 * without waiting for it, so a run can kill it during start-up as well as under load; bounded
 * HTTP calls that report a dead server as an outcome rather than a throw; RSS and descriptor
 * sampling from `/proc`; and the summary table. Loopback only, ephemeral ports only.
 * @module
 */
import { collectLines, RUN_FLAGS } from "../tests/support/server_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const MAX_LINES = 5000;

/** A spawned server that may or may not be listening yet. */
export interface Proc {
  readonly pid: number;
  /** Resolves with `http://127.0.0.1:PORT` once the server logs "listening". */
  readonly listening: Promise<string>;
  /** Resolves with the exit status. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** The last stdout lines (JSON log lines), at most 5,000. */
  readonly lines: string[];
  /** How many stdout lines had level "error". */
  errorLines(): number;
  /** Everything written to stderr. */
  stderr(): string;
  /** True until the process has exited. */
  running(): boolean;
  /** Sends `signal`; a process already gone is not an error. */
  kill(signal?: Deno.Signal): void;
  /** Sends `signal` (default SIGTERM), waits for the exit (SIGKILL after `graceMs`), returns the code. */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<number>;
}

/** Options of {@linkcode spawnServer}. */
export interface SpawnOptions {
  /** Working directory. */
  cwd: string;
  /** Arguments after `serve`; `--port 0` is added unless a port is given. */
  args?: readonly string[];
  /** Environment on top of PATH, HOME, DENO_DIR and TMPDIR (nothing else is inherited). */
  env?: Record<string, string>;
}

/** Starts `main.ts serve` and returns at once. */
export function spawnServer(options: SpawnOptions): Proc {
  const args = [...(options.args ?? [])];
  if (!args.some((arg) => arg === "--port" || arg.startsWith("--port="))) args.push("--port", "0");
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN_FLAGS, MAIN, "serve", ...args],
    cwd: options.cwd,
    env: { ...env, ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out: string[] = [];
  let errors = 0;
  let stderr = "";
  let alive = true;
  let resolveUrl!: (url: string) => void;
  let rejectUrl!: (error: Error) => void;
  const listening = new Promise<string>((resolve, reject) => {
    resolveUrl = resolve;
    rejectUrl = reject;
  });
  listening.catch(() => {});
  const stdoutDone = collectLines(child.stdout, (line) => {
    out.push(line);
    if (out.length > MAX_LINES) out.splice(0, out.length - MAX_LINES);
    if (line.includes('"level":"error"')) errors++;
    if (line.includes('"msg":"listening"')) resolveUrl(JSON.parse(line).url);
  });
  const stderrDone = collectLines(child.stderr, (line) => (stderr += line + "\n"));
  const exited = child.status.then(async (status) => {
    alive = false;
    await Promise.allSettled([stdoutDone, stderrDone]);
    rejectUrl(
      new Error(`server exited with ${status.code} (signal ${status.signal}) before listening: ${stderr.trim()}`),
    );
    return status;
  });
  const kill = (signal: Deno.Signal = "SIGKILL") => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  return {
    pid: child.pid,
    listening,
    exited,
    lines: out,
    errorLines: () => errors,
    stderr: () => stderr,
    running: () => alive,
    kill,
    async stop(signal: Deno.Signal = "SIGTERM", graceMs = 15_000) {
      kill(signal);
      const timer = setTimeout(() => kill("SIGKILL"), graceMs);
      try {
        return (await exited).code;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Waits for `proc` to listen, at most `timeoutMs`; kills it and throws otherwise. */
export async function waitListening(proc: Proc, timeoutMs = 20_000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      proc.listening,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    proc.kill("SIGKILL");
    await proc.exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`. Used only where the scenario itself is about time (kill moments, trickles, soak). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A finished HTTP exchange, or the transport error that ended it. */
export type Outcome =
  | { readonly ok: true; readonly status: number; readonly headers: Headers; readonly text: string }
  | { readonly ok: false; readonly error: string };

/** `fetch` options, with Deno's own HTTP client when a run needs to close its connections. */
export type CallInit = RequestInit & { client?: Deno.HttpClient };

/** `fetch` bounded by `timeoutMs`, reading the whole body; never throws. */
export async function call(url: string, init: CallInit = {}, timeoutMs = 10_000): Promise<Outcome> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return { ok: true, status: response.status, headers: response.headers, text };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** A JSON POST. */
export function postJson(url: string, body: unknown, timeoutMs?: number): Promise<Outcome> {
  return call(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }, timeoutMs);
}

/** Resident set size of `pid` in KiB, from `/proc/PID/status`. */
export function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return match === null ? Number.NaN : Number(match[1]);
}

/** Open file descriptors of `pid`, from `/proc/PID/fd`. */
export function fdCount(pid: number): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}

/** Renders rows as a two-column Markdown table. */
export function table(
  title: string,
  rows: readonly (readonly [string, string | number])[],
  headers: readonly [string, string] = ["what", "value"],
): string {
  const width = Math.max(headers[0].length, ...rows.map(([name]) => name.length));
  const valueWidth = Math.max(headers[1].length, ...rows.map(([, value]) => String(value).length));
  const line = (a: string, b: string) => `| ${a.padEnd(width)} | ${b.padStart(valueWidth)} |`;
  return [
    `${title}`,
    line(headers[0], headers[1]),
    `| ${"-".repeat(width)} | ${"-".repeat(valueWidth - 1)}: |`,
    ...rows.map(([name, value]) => line(name, String(value))),
  ].join("\n");
}

/** Canonical text of a public JWK (sorted members), to compare keys published under one kid. */
export function canonicalJwk(jwk: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(jwk).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
