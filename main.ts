/**
 * jwks-server's entry point and its only wiring: reads argv, the environment, `.env` and the
 * system clock; resolves the master secret; calls `Deno.serve`; registers `Deno.cron`; handles
 * signals. Everything it wires lives in `lib/`.
 * @module
 */
import { argon2Hasher } from "./lib/argon2_hasher.ts";
import { type App, createApp } from "./lib/app.ts";
import { type Command, helpFor, parseCommand } from "./lib/cli.ts";
import { type Config, loadConfig, parseDotenv } from "./lib/config.ts";
import { randomSecret } from "./lib/crypto_at_rest.ts";
import { AppError, hasCode } from "./lib/errors.ts";
import { WorkerHasher } from "./lib/hash_worker.ts";
import { handle } from "./lib/http.ts";
import { createLogger, type Logger } from "./lib/log.ts";

const encoder = new TextEncoder();
const clock = () => Date.now();

/** Buffers stdout lines and writes them in batches, so logging stays off the hot path. */
function stdoutSink(): { write(line: string): void; flush(): void } {
  let buffer: string[] = [];
  let size = 0;
  const flush = () => {
    if (buffer.length === 0) return;
    const text = buffer.join("\n") + "\n";
    buffer = [];
    size = 0;
    const bytes = encoder.encode(text);
    let offset = 0;
    while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
  };
  const timer = setInterval(flush, 50);
  Deno.unrefTimer(timer);
  return {
    write(line) {
      buffer.push(line);
      size += line.length;
      if (size > 64 * 1024) flush();
    },
    flush,
  };
}

function fail(message: string, code: number): number {
  Deno.stderr.writeSync(encoder.encode(`jwks-server: ${message}\n`));
  return code;
}

function readDotenv(): Record<string, string> {
  try {
    return parseDotenv(Deno.readTextFileSync(".env"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
}

/**
 * The master secret: `NOT_MY_KEY`, or else the development secret in `<db>.secret`, created
 * (mode 0600) when missing. Returns whether the file was created, so a failed start can remove
 * it again and leave the disk as it was.
 */
function resolveSecret(config: Config, log: Logger): { secret: string; createdFile: string | null } {
  if (config.masterSecret !== null) {
    if (new TextEncoder().encode(config.masterSecret).byteLength < 16) {
      log.warn("weak_master_secret", { hint: "NOT_MY_KEY is shorter than 16 bytes; use 32 random bytes" });
    }
    return { secret: config.masterSecret, createdFile: null };
  }
  if (config.db === ":memory:") return { secret: randomSecret(), createdFile: null };
  if (/^postgres(ql)?:\/\//i.test(config.db)) {
    throw new AppError("invalid_config", "NOT_MY_KEY must be set when the database is PostgreSQL");
  }
  const path = `${config.db}.secret`;
  try {
    const secret = Deno.readTextFileSync(path).trim();
    log.warn("development_secret", { file: path, hint: "NOT_MY_KEY is not set; using the development secret file" });
    return { secret, createdFile: null };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const secret = randomSecret();
  Deno.writeTextFileSync(path, secret + "\n", { mode: 0o600, createNew: true });
  Deno.chmodSync(path, 0o600);
  log.warn("development_secret_created", {
    file: path,
    hint: "NOT_MY_KEY is not set: generated a master secret for DEVELOPMENT ONLY; set NOT_MY_KEY in production",
  });
  return { secret, createdFile: path };
}

async function serve(config: Config, sink: ReturnType<typeof stdoutSink>): Promise<number> {
  const log = createLogger({ level: config.logLevel, clock, write: sink.write });
  const { secret, createdFile } = resolveSecret(config, log);
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
  let app: App;
  try {
    app = await createApp(config, {
      clock,
      masterSecret: secret,
      hasher,
      hashConcurrency: config.hashConcurrency ?? Math.max(1, navigator.hardwareConcurrency - 1),
      log,
    });
    hasher.arm();
  } catch (error) {
    hasher.close();
    if (createdFile !== null) Deno.removeSync(createdFile);
    if (createdFile !== null && hasCode(error, "wrong_secret")) {
      throw new AppError(
        "wrong_secret",
        `"${config.db}" was created with another master secret: set NOT_MY_KEY to it (or restore "${config.db}.secret")`,
      );
    }
    throw error;
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

  Deno.cron("jwks-server key rotation", "* * * * *", async () => {
    try {
      await app.rotate();
    } catch (error) {
      log.error("rotation_failed", { error });
    }
  });
  const poll = setInterval(() => {
    app.refresh().catch((error) => log.error("refresh_failed", { error }));
  }, 2000);

  const stop = async (signal: string) => {
    log.info("shutting_down", { signal });
    clearInterval(poll);
    const deadline = setTimeout(() => {
      log.error("shutdown_deadline_passed", {});
      sink.flush();
      Deno.exit(1);
    }, 10_000);
    await server.shutdown();
    await app.close();
    hasher.close();
    clearTimeout(deadline);
    log.info("stopped", {});
    sink.flush();
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void stop(signal));
  }
  await server.finished;
  return 0;
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
  let config: Config;
  try {
    config = loadConfig(command.flags, Deno.env.toObject(), readDotenv());
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error), 2);
  }
  const sink = stdoutSink();
  try {
    return await serve(config, sink);
  } catch (error) {
    sink.flush();
    if (error instanceof AppError) return fail(error.message, error.code === "invalid_config" ? 2 : 1);
    return fail(`Unexpected failure: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
