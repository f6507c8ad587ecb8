/**
 * How a command opens the server's database: the same settings (flags over environment over
 * `.env`), the same master secret (`NOT_MY_KEY` or the development secret file, and
 * `NOT_MY_KEY_PREVIOUS` during a rotation), the same store, and a `KeyManager` on the policy
 * stored with the keys, unless the command is given other settings, which it says. The store
 * is closed when the command is done.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { lifecyclePolicy, POLICY_SETTINGS, type PolicySettings, policyValue } from "../core/key_policy.ts";
import { createSealer, rotatingSealer, type Sealer } from "../core/seal.ts";
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
    const previous = config.previousSecret === null ? null : createSealer(config.previousSecret);
    const sealer = rotatingSealer(createSealer(masterSecret), previous);
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

/** This process, for the note stored with its key changes: `keys rotate (pid 42 on build-1)`. */
export function origin(command: Pick<Command, "name">): string {
  let host = "";
  try {
    host = ` on ${Deno.hostname()}`;
  } catch {
    // no permission to read the host name: the pid alone
  }
  return `${command.name} (pid ${Deno.pid}${host})`;
}

/**
 * The policy a command plans with: the one stored with the keys (the server's), except the
 * settings the command was given (a flag, the environment or `.env`), each of which is named
 * on stderr when it differs from the stored one. The configured policy when none is stored.
 */
export async function commandPolicy(opened: Opened, io: Pick<CommandIo, "warn">) {
  const { config } = opened;
  const stored = await opened.store.keyPolicy();
  if (stored === null) return config.policy;
  const settings: Record<string, unknown> = {};
  for (const name of POLICY_SETTINGS) {
    const given = config.given.includes(name);
    settings[name] = given ? config[name] : stored[name];
    if (given && config[name] !== stored[name]) {
      io.warn(
        `Warning: ${SETTING_NAMES[name]} given here (${policyValue(config[name])}) ` +
          `differs from the one the server uses (${policyValue(stored[name])}, stored with the keys); ` +
          `this command plans with ${policyValue(config[name])}`,
      );
    }
  }
  return lifecyclePolicy(settings as unknown as PolicySettings);
}

const SETTING_NAMES: Readonly<Record<keyof PolicySettings, string>> = {
  rotationInterval: "the rotation interval",
  tokenTtl: "the token TTL",
  clockSkew: "the clock skew",
  retention: "the key retention",
  alg: "the algorithm",
};

/** A key manager on the opened database, on the policy {@linkcode commandPolicy} says, with the command's clock. */
export async function keyManager(opened: Opened, io: CommandIo, command: Pick<Command, "name">): Promise<KeyManager> {
  return new KeyManager({
    store: opened.store,
    sealer: opened.sealer,
    policy: await commandPolicy(opened, io),
    clock: io.clock,
    origin: origin(command),
    ...(io.generate ? { generate: io.generate } : {}),
  });
}
