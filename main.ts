/**
 * jwks-server's entry point and its only wiring: argv, the environment (only the variables the
 * settings declare), `.env`, stdin, stdout, the system clock, and the runtime the server needs
 * (`Deno.serve`, `Deno.cron`, signals). Everything it wires lives in `lib/`.
 * @module
 */
import { readStream } from "./lib/cli/files.ts";
import { exitCodeOf } from "./lib/cli/spec.ts";
import { helpFor, parseCommand, runCommand } from "./lib/cli/commands.ts";
import { AppError } from "./lib/core/errors.ts";
import { listen } from "./lib/http/listener.ts";
import { stdoutSink, writeAll } from "./lib/ops/sink.ts";
import { runServer } from "./lib/server.ts";
import { ENV_VARS, parseDotenv } from "./lib/settings.ts";

const clock = () => Date.now();
const fail = (message: string, code: number) => (writeAll(Deno.stderr, `jwks-server: ${message}\n`), code);

function readDotenv(): Record<string, string> {
  try {
    return parseDotenv(Deno.readTextFileSync(".env"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const command = parseCommand(argv);
    if (command.help) return (console.log(helpFor(command.name)), 0);
    const env = Object.fromEntries(ENV_VARS.map((name) => [name, Deno.env.get(name)]));
    return await runCommand(command, {
      env,
      dotenv: readDotenv(),
      clock,
      write: (text) => writeAll(Deno.stdout, text),
      warn: (line) => writeAll(Deno.stderr, `jwks-server: ${line}\n`),
      readStdin: async (maxBytes) => Deno.stdin.isTerminal() ? "" : await readStream(Deno.stdin.readable, maxBytes),
      serve: (config) =>
        runServer(config, {
          serve: (options, handler) => listen(options, handler),
          cron: (name, schedule, options, run) => void Deno.cron(name, schedule, options, run),
          onSignal: (signal, listener) => Deno.addSignalListener(signal, listener),
          clock,
          sink: stdoutSink(Deno.stdout),
          cpus: navigator.hardwareConcurrency,
          tty: Deno.stdout.isTerminal(),
          color: !Deno.noColor,
          origin: `serve (pid ${Deno.pid} on ${Deno.hostname()})`,
        }),
    });
  } catch (error) {
    if (error instanceof AppError) return fail(error.message, exitCodeOf(error));
    return fail(`Unexpected failure: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
