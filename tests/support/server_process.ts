/**
 * Runs the real program (`main.ts`) as a subprocess for end-to-end tests: on an ephemeral
 * port (`--port 0`, the URL is read from the "listening" log line), in a working directory of
 * the test's choosing, stopped by PID. Also runs one-shot CLI commands.
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/**
 * The permission flags of the `compile` task in deno.json, so every subprocess test runs with
 * exactly the permissions the compiled binary gets.
 */
export function compilePermissions(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(CONFIG));
  const words: string[] = config.tasks.compile.split(/\s+/);
  return words.filter((word) => /^--(allow|deny|ignore)-|^--no-prompt$/.test(word));
}

/** `deno run` with the permissions of the compiled binary. */
export const RUN_FLAGS = ["run", "--config", CONFIG, ...compilePermissions()];

/** A running server. */
export interface ServerProcess {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly pid: number;
  readonly child: Deno.ChildProcess;
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and waits for the exit; returns the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  /** Resolves with the exit status when the process ends on its own. */
  readonly exited: Promise<Deno.CommandStatus>;
}

/** Options of {@linkcode startServer}. */
export interface StartOptions {
  /** Extra arguments after `serve`. `--port 0` is added unless a port is given. */
  args?: string[];
  /** Environment (merged over a minimal one; NOT_MY_KEY is not inherited). */
  env?: Record<string, string>;
  /** Working directory (where the default DB file goes). */
  cwd: string;
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

/** Starts `main.ts serve` and resolves once it listens. Rejects (and kills it) otherwise. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const args = [...(options.args ?? [])];
  if (!args.includes("--port") && !args.some((arg) => arg.startsWith("--port="))) args.push("--port", "0");
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN_FLAGS, MAIN, "serve", ...args],
    cwd: options.cwd,
    env: baseEnv(options.env ?? {}),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let stderr = "";
  let resolveUrl: (url: string) => void;
  const listening = new Promise<string>((resolve) => (resolveUrl = resolve));
  const stdoutDone = collectLines(child.stdout, (line) => {
    lines.push(line);
    if (line.includes('"msg":"listening"')) resolveUrl(JSON.parse(line).url);
  });
  const stderrDone = collectLines(child.stderr, (line) => (stderr += line + "\n"));
  const exited = child.status.then(async (status) => {
    await Promise.allSettled([stdoutDone, stderrDone]);
    return status;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`server did not listen within ${options.timeoutMs ?? 15_000} ms`)),
      options.timeoutMs ?? 15_000,
    );
  });
  try {
    const url = await Promise.race([
      listening,
      timeout,
      exited.then((status) => {
        throw new Error(`server exited with ${status.code} before listening: ${stderr.trim()}`);
      }),
    ]);
    return {
      url,
      pid: child.pid,
      child,
      lines,
      stderr: () => stderr,
      exited,
      async stop(signal: Deno.Signal = "SIGTERM") {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
        return (await exited).code;
      },
    };
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
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
