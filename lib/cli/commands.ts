/**
 * The command table: every command of `jwks-server`, each with its options, help and runner, in
 * the order the overview lists them. Parsing and help come from `parse.ts`; settings options
 * from `lib/settings.ts`. `serve` runs through `CommandIo.serve`, which `main.ts` wires to the
 * process lifecycle in `lib/server.ts`.
 * @module
 */
import denoConfig from "../../deno.json" with { type: "json" };
import { AppError } from "../core/errors.ts";
import { type Config, loadConfig } from "../settings.ts";
import { readSeedUsersFile } from "./seed_users.ts";
import { helpFor as helpIn, parseCommand as parseIn } from "./parse.ts";
import type { Command, CommandIo, CommandSpec } from "./spec.ts";
import { DATABASE_COMMANDS } from "./database_commands.ts";
import { CLIENT_COMMANDS } from "./client_commands.ts";

/** The version of this build (deno.json's `version`). */
export const VERSION: string = denoConfig.version;

/** What `serve` needs beyond the other commands: the process lifecycle. */
export interface ServeIo extends CommandIo {
  /** Runs the server until it is stopped; resolves with the exit code. */
  serve?(config: Config): Promise<number>;
}

/** Every command, in the order the overview lists them. */
export const COMMANDS: readonly CommandSpec<ServeIo>[] = Object.freeze<CommandSpec<ServeIo>[]>([
  {
    name: "serve",
    usage: "[options]",
    summary: "run the HTTP server",
    about: "Runs the token issuer: JWKS at /.well-known/jwks.json, tokens at POST /auth.",
    scope: "serve",
    run: async (command, io) => {
      const loaded = loadConfig(command.flags, io.env, io.dotenv ?? {});
      if (io.serve === undefined) throw new AppError("internal", "This build cannot serve");
      const config = loaded.seedUsersFile === null ? loaded : Object.freeze({
        ...loaded,
        seedUsers: Object.freeze([...loaded.seedUsers, ...await readSeedUsersFile(loaded.seedUsersFile)]),
      });
      return await io.serve(config);
    },
  },
  ...DATABASE_COMMANDS,
  ...CLIENT_COMMANDS,
  {
    name: "version",
    usage: "",
    summary: "print the version (also --version)",
    about: "Prints the version of this build.",
    scope: null,
    run: (_command, io) => {
      io.write(`jwks-server ${VERSION}\n`);
      return Promise.resolve(0);
    },
  },
]);

/** Parses argv against {@linkcode COMMANDS}. Throws `AppError("usage")`. */
export function parseCommand(argv: readonly string[]): Command {
  return parseIn(COMMANDS, argv);
}

/** The help text of `name` (the overview for an unknown or empty name). */
export function helpFor(name: string): string {
  return helpIn(COMMANDS, name);
}

/** Runs a parsed command. Returns its exit code; throws `AppError` on failure. */
export async function runCommand(command: Command, io: ServeIo): Promise<number> {
  const spec = COMMANDS.find((entry) => entry.name === command.name);
  if (spec === undefined) throw new AppError("usage", `Unknown command "${command.name}"`);
  return await spec.run(command, io);
}
