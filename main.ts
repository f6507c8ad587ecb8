/**
 * jwks-server's entry point and its only wiring: reads argv, the environment, `.env`, stdin and
 * the system clock; runs a one-shot command (`lib/commands.ts`) or serves: calls `Deno.serve`,
 * registers `Deno.cron`, handles signals. Everything it wires lives in `lib/`.
 * @module
 */
import { accessLog } from "./lib/ops/access_log.ts";
import { argon2Hasher } from "./lib/users/argon2.ts";
import { createApp } from "./lib/app.ts";
import { type Command, helpFor, parseCommand } from "./lib/cli/parse.ts";
import { exitCodeOf, isOneShot, runCommand } from "./lib/cli/commands.ts";
import { type Config, ENV_VARS, loadConfig, parseDotenv } from "./lib/settings.ts";
import { AppError } from "./lib/core/errors.ts";
import { handle } from "./lib/http/router.ts";
import { WorkerHasher } from "./lib/users/hash_worker.ts";
import { createLogger } from "./lib/ops/log.ts";
import { withMasterSecret } from "./lib/store/master_secret.ts";
import { chooseSigningBackend } from "./lib/signing/choose.ts";

const encoder = new TextEncoder();
const clock = () => Date.now();
/** How long a graceful stop waits for in-flight requests before it gives up (exit 1). */
const SHUTDOWN_DEADLINE_MS = 10_000;

/**
 * Buffers stdout lines and writes them in batches, so logging stays off the hot path. Lines are
 * appended to one string and written every 16 KiB (or 50 ms): small batches keep the line
 * strings young, so they die in the scavenger instead of being promoted and copied.
 */
function stdoutSink(): { write(line: string): void; flush(): void } {
  let pending = "";
  const flush = () => {
    if (pending === "") return;
    const text = pending;
    pending = "";
    writeAll(Deno.stdout, text);
  };
  const timer = setInterval(flush, 50);
  Deno.unrefTimer(timer);
  return {
    write(line) {
      pending += line + "\n";
      if (pending.length > 16 * 1024) flush();
    },
    flush,
  };
}

function fail(message: string, code: number): number {
  Deno.stderr.writeSync(encoder.encode(`jwks-server: ${message}\n`));
  return code;
}

function failure(error: unknown): number {
  if (error instanceof AppError) return fail(error.message, exitCodeOf(error));
  return fail(`Unexpected failure: ${error instanceof Error ? error.message : String(error)}`, 1);
}

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
}

async function readStdin(): Promise<string> {
  if (Deno.stdin.isTerminal()) return "";
  return await new Response(Deno.stdin.readable).text();
}

function readDotenv(): Record<string, string> {
  try {
    return parseDotenv(Deno.readTextFileSync(".env"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
}

async function serve(config: Config, sink: ReturnType<typeof stdoutSink>): Promise<number> {
  const log = createLogger({ level: config.logLevel, clock, write: sink.write });
  // Argon2 runs below the request thread's priority, so a login flood cannot starve /jwks. The
  // worker starts with the first login after start-up; until then hashing runs in-thread.
  const hasher = new WorkerHasher({
    fallback: argon2Hasher(),
    lazy: true,
    onState: (state) => {
      if (state.state === "failed" && state.reason !== "closed") {
        log.warn("hash_worker_failed", { reason: state.reason, hint: "password hashing runs at normal priority" });
      } else if (state.state === "ready" && !state.niced) {
        log.warn("hash_priority_unchanged", { hint: "could not lower the priority of password hashing" });
      }
    },
  });
  const signing = chooseSigningBackend({
    onKeyFallback: (alg, error) =>
      log.warn("signing_key_fallback", { alg, backend: "webcrypto", reason: (error as Error).message }),
  });
  log.info("signing_backend", {
    backend: signing.backend.name,
    library: signing.backend.library,
    algs: signing.algs,
    ...(signing.fallbackReason === null ? {} : { fallback: signing.fallbackReason }),
  });
  let started;
  try {
    started = await withMasterSecret(config, (masterSecret) =>
      createApp(config, {
        clock,
        masterSecret,
        hasher,
        signing: signing.backend,
        hashConcurrency: config.hashConcurrency ?? Math.max(1, navigator.hardwareConcurrency - 1),
        log,
        onRequest: accessLog(log),
      }));
  } catch (error) {
    hasher.close();
    throw error;
  }
  const { value: app, secret } = started;
  hasher.arm();
  if (secret.weak) {
    log.warn("weak_master_secret", { hint: "NOT_MY_KEY is shorter than 16 bytes; use 32 random bytes" });
  } else if (secret.source === "file") {
    log.warn("development_secret", {
      file: secret.file,
      hint: "NOT_MY_KEY is not set; using the development secret file",
    });
  } else if (secret.source === "created") {
    log.warn("development_secret_created", {
      file: secret.file,
      hint: "NOT_MY_KEY is not set: generated a master secret for DEVELOPMENT ONLY; set NOT_MY_KEY in production",
    });
  }

  let deps = app.deps;
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      if (config.port === 0 && !config.issuerSet) {
        // An ephemeral port is only known now; the default issuer names it.
        deps = { ...deps, settings: { ...deps.settings, issuer: `http://${host}:${port}` } };
      }
      log.info("listening", { url: `http://${host}:${port}`, issuer: deps.settings.issuer, db: app.store.description });
    },
  }, (request, info) => handle(request, deps, info));

  // Background work (rotation, polling) is tracked so a stop waits for it before closing the DB.
  const background = new Set<Promise<void>>();
  const track = (work: Promise<void>): Promise<void> => {
    background.add(work);
    return work.finally(() => background.delete(work));
  };
  const cron = new AbortController();
  Deno.cron(
    "jwks-server key rotation",
    "* * * * *",
    { signal: cron.signal },
    () => track(app.rotate().catch((error) => log.error("rotation_failed", { error }))),
  );
  // Reported once per outage, not every tick.
  let refreshFailing = false;
  const poll = setInterval(() => {
    void track(
      app.refresh().then(() => {
        if (refreshFailing) log.info("refresh_recovered", {});
        refreshFailing = false;
      }, (error) => {
        if (!refreshFailing) log.error("refresh_failed", { error });
        refreshFailing = true;
      }),
    );
  }, 2000);

  // SIGINT/SIGTERM: drain, then stop. Deno 2.9's server.shutdown() makes request bodies that
  // are still arriving unreadable (denoland/deno#36809), so it is called only once the requests
  // in flight are done: from the signal on, new requests get 503 with `Connection: close`; the
  // ones already received run to completion (up to the deadline). Then the listener closes,
  // background work finishes, the auth log is flushed and the database closed (SQLite
  // checkpoints the WAL). A second signal exits at once.
  let draining = false;
  deps = { ...deps, draining: () => draining };
  let stopping: Promise<number> | null = null;
  const stop = (signal: string): Promise<number> => {
    if (stopping !== null) {
      log.warn("forced_exit", { signal });
      sink.flush();
      Deno.exit(1);
    }
    return stopping = (async () => {
      draining = true;
      log.info("shutting_down", { signal, inFlight: app.metrics.inFlight, deadlineMs: SHUTDOWN_DEADLINE_MS });
      sink.flush();
      clearInterval(poll);
      cron.abort();
      const deadline = Date.now() + SHUTDOWN_DEADLINE_MS;
      while (app.metrics.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"deadline">((resolve) => {
        timer = setTimeout(() => resolve("deadline"), Math.max(0, deadline - Date.now()));
      });
      const drained = app.metrics.inFlight > 0
        ? "deadline"
        : await Promise.race([server.shutdown().then(() => "drained" as const), late]);
      if (drained === "deadline") {
        log.error("shutdown_deadline_passed", { inFlight: app.metrics.inFlight, deadlineMs: SHUTDOWN_DEADLINE_MS });
      }
      await Promise.race([Promise.allSettled([...background]), late]);
      clearTimeout(timer);
      try {
        await app.close();
      } catch (error) {
        log.error("close_failed", { error });
        return 1;
      } finally {
        hasher.close();
        signing.backend.close?.();
      }
      log.info("stopped", { signal });
      return drained === "drained" ? 0 : 1;
    })();
  };
  const stopped = new Promise<number>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => void stop(signal).then(resolve));
    }
  });
  const code = await stopped;
  sink.flush();
  return code;
}

async function main(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error), 2);
  }
  if (command.help) {
    console.log(helpFor(command.name));
    return 0;
  }
  let env: Record<string, string | undefined>;
  let dotenv: Record<string, string>;
  try {
    // Only the variables the program reads, so the compiled binary needs no wider --allow-env.
    env = Object.fromEntries(ENV_VARS.map((name) => [name, Deno.env.get(name)]));
    dotenv = readDotenv();
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error), 2);
  }
  if (isOneShot(command.name)) {
    try {
      return await runCommand(command, {
        env,
        dotenv,
        clock,
        write: (text) => writeAll(Deno.stdout, text),
        warn: (line) => writeAll(Deno.stderr, `jwks-server: ${line}\n`),
        readStdin,
      });
    } catch (error) {
      return failure(error);
    }
  }
  let config: Config;
  try {
    config = loadConfig(command.flags, env, dotenv);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error), 2);
  }
  const sink = stdoutSink();
  try {
    return await serve(config, sink);
  } catch (error) {
    sink.flush();
    return failure(error);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
