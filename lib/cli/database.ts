/**
 * How a command opens the server's database: the same settings (flags over environment over
 * `.env`), the same master secret (`NOT_MY_KEY` or the development secret file), the same store,
 * and a `KeyManager` on the stored policy. The store is closed when the command is done.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { createSealer, type Sealer } from "../core/seal.ts";
import { KeyManager } from "../keys/key_manager.ts";
import { type Config, type Flags, loadConfig } from "../settings.ts";
import { openStore } from "../app.ts";
import { backendFor } from "../store/registry.ts";
import { withMasterSecret } from "../store/master_secret.ts";
import type { Store } from "../store/ports.ts";
import { type Command, type CommandIo, usage } from "./spec.ts";

/** An open database, for the length of one command. */
export interface Opened {
  readonly config: Config;
  readonly store: Store;
  readonly sealer: Sealer;
}

/** Options of {@linkcode withDatabase}. */
export interface WithDatabaseOptions {
  /** Fail rather than create a new database (for commands that only make sense on existing keys). */
  mustExist: boolean;
  /** Flags to read the settings from, when not the command's own. */
  flags?: Flags;
}

/** Opens the database the server uses, runs `run` on it, and closes it. */
export async function withDatabase<T>(
  command: Command,
  io: CommandIo,
  options: WithDatabaseOptions,
  run: (opened: Opened) => Promise<T>,
): Promise<T> {
  const config = loadConfig(options.flags ?? command.flags, io.env, io.dotenv ?? {});
  if (config.db === ":memory:") {
    throw usage(command, 'The database ":memory:" would vanish when the command ends; name a file with --db');
  }
  if (options.mustExist && backendFor(config.db).isFile(config.db)) {
    try {
      Deno.statSync(config.db);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new AppError("not_found", `No database at "${config.db}"; check --db or JWKS_DB`);
    }
  }
  const { value: opened, secret } = await withMasterSecret(config, async (masterSecret) => {
    const sealer = createSealer(masterSecret);
    return { sealer, store: await openStore(config, sealer) };
  });
  if (secret.source === "created") {
    io.warn(`Warning: NOT_MY_KEY is not set; generated a DEVELOPMENT master secret in "${secret.file}"`);
  }
  try {
    return await run({ config, ...opened });
  } finally {
    await opened.store.close();
  }
}

/** A key manager on the opened database, with the command's clock. */
export function keyManager(opened: Opened, io: CommandIo): KeyManager {
  return new KeyManager({
    store: opened.store,
    sealer: opened.sealer,
    policy: opened.config.policy,
    clock: io.clock,
    ...(io.generate ? { generate: io.generate } : {}),
  });
}
