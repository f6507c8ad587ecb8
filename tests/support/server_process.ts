/**
 * The one launcher of the real program (`main.ts`) for end-to-end tests and the torture runs:
 * `spawnServer` starts `serve` on an ephemeral port (`--port 0`; the URL is read from the
 * "listening" log line) in a working directory of the caller's choosing and returns at once, so a
 * run can kill it during start-up; `startServer` also waits until it listens; `withServer` adds a
 * temporary working directory and the cleanup. Servers bind 127.0.0.1 and are stopped by PID.
 * Also runs one-shot CLI commands. (bench/harness.ts still has a launcher of its own.)
 * @module
 */

import { withTempDir } from "./helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
/** Stdout lines kept per server: a soak writes millions; the tests read a few hundred. */
const MAX_LINES = 20_000;

/**
 * The permission flags of the `compile` task in deno.json, so every subprocess runs with
 * exactly the permissions the compiled binary gets.
 */
export function compilePermissions(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(CONFIG));
  const words: string[] = config.tasks.compile.split(/\s+/);
  return words.filter((word) => /^--(allow|deny|ignore)-|^--no-prompt$/.test(word));
}

/** `deno run` with the permissions of the compiled binary. */
export const RUN_FLAGS = ["run", "--config", CONFIG, ...compilePermissions()];

/** A spawned server that may or may not be listening yet. */
export interface ServerProcess {
  readonly pid: number;
  readonly child: Deno.ChildProcess;
  /** Resolves with `http://127.0.0.1:PORT` once the server logs "listening"; rejects if it exits first. */
  readonly listening: Promise<string>;
  /** Resolves with the exit status once the process has ended and its output is read. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** The stdout lines so far (JSON log lines), the last 20,000 at most. */
  readonly lines: string[];
  /** How many stdout lines had level "error". */
  errorLines(): number;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** True until the process has exited. */
  running(): boolean;
  /** Sends `signal` (default SIGKILL); a process already gone is not an error. */
  kill(signal?: Deno.Signal): void;
  /** Sends `signal` (default SIGTERM), waits for the exit (SIGKILL after `graceMs`), returns the code. */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<number>;
}

/** A server that listens: a {@linkcode ServerProcess} with its URL. */
export interface StartedServer extends ServerProcess {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
}

/** Options of {@linkcode spawnServer}. */
export interface SpawnOptions {
  /** Working directory (where the default DB file goes). */
  cwd: string;
  /** Arguments after `serve`; `--port 0` is added unless a port is given. */
  args?: readonly string[];
  /** Environment on top of PATH, HOME, DENO_DIR and TMPDIR (nothing else is inherited, NOT_MY_KEY neither). */
  env?: Record<string, string>;
  /** Runs the server under `ulimit -n` of this many descriptors (soft and hard). */
  descriptorLimit?: number;
}

/** Options of {@linkcode startServer}. */
export interface StartOptions extends SpawnOptions {
  /** How long to wait for the listening line. Default 15 s. */
  timeoutMs?: number;
}

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Calls `onLine` for every line of `stream` (a child's stdout or stderr) until it ends; a pipe
 * that breaks with the process just ends it.
 */
export async function collectLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = rest.indexOf("\n")) >= 0) {
        onLine(rest.slice(0, newline));
        rest = rest.slice(newline + 1);
      }
    }
  } catch {
    // the pipe broke with the process
  }
  if (rest !== "") onLine(rest);
}

/** Starts `main.ts serve` and returns at once. */
export function spawnServer(options: SpawnOptions): ServerProcess {
  const args = [...(options.args ?? [])];
  if (!args.some((arg) => arg === "--port" || arg.startsWith("--port="))) args.push("--port", "0");
  const argv = [Deno.execPath(), ...RUN_FLAGS, MAIN, "serve", ...args];
  const limit = options.descriptorLimit;
  const [program, ...rest] = limit === undefined
    ? argv
    : ["sh", "-c", `ulimit -n ${Math.floor(limit)} && exec "$0" "$@"`, ...argv];
  const child = spawnPiped(program!, rest, { cwd: options.cwd, env: baseEnv(options.env ?? {}) });
  const lines: string[] = [];
  let errors = 0;
  let stderr = "";
  let alive = true;
  const listening = Promise.withResolvers<string>();
  listening.promise.catch(() => {});
  const stdoutDone = collectLines(child.stdout, (line) => {
    lines.push(line);
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
    if (line.includes('"level":"error"')) errors++;
    if (line.includes('"msg":"listening"')) listening.resolve(JSON.parse(line).url);
  });
  const stderrDone = collectLines(child.stderr, (line) => (stderr += line + "\n"));
  const exited = child.status.then(async (status) => {
    alive = false;
    await Promise.allSettled([stdoutDone, stderrDone]);
    listening.reject(
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
    child,
    listening: listening.promise,
    exited,
    lines,
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

/** Waits for `server` to listen, at most `timeoutMs`; kills it and throws otherwise. */
export async function waitListening(server: ServerProcess, timeoutMs = 20_000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      server.listening,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    server.kill("SIGKILL");
    await server.exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `main.ts serve` and resolves once it listens. Rejects (and kills it) otherwise. */
export async function startServer(options: StartOptions): Promise<StartedServer> {
  const server = spawnServer(options);
  const url = await waitListening(server, options.timeoutMs ?? 15_000);
  return Object.assign(server, { url });
}

/**
 * Runs `fn` with a server started in a fresh temporary working directory (or `options.cwd`).
 * Afterwards the server is killed if `fn` left it running, and the directory is removed.
 */
export async function withServer<T>(
  options: Omit<StartOptions, "cwd"> & { cwd?: string },
  fn: (server: StartedServer, cwd: string) => Promise<T>,
): Promise<T> {
  const run = async (cwd: string) => {
    const server = await startServer({ ...options, cwd });
    try {
      return await fn(server, cwd);
    } finally {
      await server.stop("SIGKILL");
    }
  };
  return options.cwd === undefined ? await withTempDir(run) : await run(options.cwd);
}

/** The result of a one-shot command. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main.ts ...args` to completion (a CLI command, or a server expected to fail at start). */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN_FLAGS, MAIN, ...args],
    cwd: options.cwd,
    env: baseEnv(options.env ?? {}),
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** A one-shot command started in the background, so a test can kill it at a chosen moment. */
export interface SpawnedCommand {
  readonly child: Deno.ChildProcess;
  /** Resolves with the exit status and the output once the process has ended. */
  readonly done: Promise<RunResult & { signal: Deno.Signal | null }>;
}

/** Spawns `program` with exactly `env` (nothing inherited), no stdin, stdout and stderr piped. */
export function spawnPiped(
  program: string,
  args: string[],
  options: { cwd?: string | undefined; env: Record<string, string> },
): Deno.ChildProcess {
  return new Deno.Command(program, {
    args,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A port free on 127.0.0.1 now, for a program that must be told its port before it starts. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts a helper program (an example API, a verifier, an example app) that prints
 * "listening on URL" on stdout; resolves with that URL once it does, and rejects with its
 * stderr if it exits first. `stop()` sends SIGTERM and waits for it.
 */
export async function startListening(
  program: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawnPiped(program, args, { env: baseEnv(options.env ?? {}) });
  const listening = Promise.withResolvers<string>();
  const stdout = collectLines(child.stdout, (line) => {
    const match = /listening on (\S+)/.exec(line);
    if (match !== null) listening.resolve(match[1]!);
  });
  const stderr = new Response(child.stderr).text();
  child.status.then(async () => listening.reject(new Error(`${program} ${args.join(" ")} exited: ${await stderr}`)));
  const url = await listening.promise;
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Promise.all([stdout, stderr]);
    },
  };
}

/** Starts `main.ts ...args` and returns at once (see {@linkcode runCli} to wait for it). */
export function spawnCommand(args: string[], options: { cwd: string; env?: Record<string, string> }): SpawnedCommand {
  const child = spawnPiped(Deno.execPath(), [...RUN_FLAGS, MAIN, ...args], {
    cwd: options.cwd,
    env: baseEnv(options.env ?? {}),
  });
  const decoder = new TextDecoder();
  const done = child.output().then((output) => ({
    code: output.code,
    signal: output.signal,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  }));
  return { child, done };
}

/** Options of {@linkcode scenario}: anything `Deno.test` takes but the name and the function. */
export type ScenarioOptions = Omit<Deno.TestDefinition, "name" | "fn">;

/**
 * Registers an end-to-end test. Subprocesses, their pipes and their timers outlive a test
 * step by design (a server is stopped by PID and drained), so the resource and op sanitizers
 * are off; every test still stops what it started.
 */
export function scenario(name: string, fn: (t: Deno.TestContext) => Promise<void>, options: ScenarioOptions = {}) {
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, ...options, fn });
}
