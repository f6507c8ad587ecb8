/**
 * `secret rotate`: seals every private key (and the master-secret canary) again under
 * `NEW_NOT_MY_KEY`, opening them with `NOT_MY_KEY`, in one transaction on SQLite and
 * PostgreSQL alike, so a crash at any moment leaves all of them under the old secret or all
 * under the new one. Both secrets come from the environment, never from the command line. Kids,
 * the JWKS and issued tokens do not change.
 * @module
 */
import { AppError, hasCode } from "../core/errors.ts";
import { CANARY_KID, createSealer, rotatingSealer } from "../core/seal.ts";
import { listKeyInfo } from "../keys/key_reports.ts";
import { loadConfig } from "../settings.ts";
import { secretFileOf } from "../store/master_secret.ts";
import { backendFor } from "../store/registry.ts";
import { origin, withDatabase } from "./database.ts";
import { type Command, type CommandIo, jsonText } from "./spec.ts";

/** Shortest new secret accepted, in bytes: a new secret is chosen now, so it is chosen well. */
const MIN_NEW_SECRET_BYTES = 16;

/** The current and the new secret, or a configuration error saying what to set. */
function secrets(command: Command, io: CommandIo): { current: string; next: string } {
  const config = loadConfig(command.flags, io.env, io.dotenv ?? {});
  if (config.masterSecret === null) {
    const file = backendFor(config.db).isFile(config.db) ? secretFileOf(config.db) : null;
    throw new AppError(
      "invalid_config",
      "Set NOT_MY_KEY to the current master secret" +
        (file === null ? "" : ` (a development database's is in "${file}": NOT_MY_KEY="$(cat '${file}')")`),
    );
  }
  if (config.newSecret === null) {
    throw new AppError(
      "invalid_config",
      'Set NEW_NOT_MY_KEY to the new master secret, such as NEW_NOT_MY_KEY="$(openssl rand -base64 32)"',
    );
  }
  if (config.newSecret === config.masterSecret) {
    throw new AppError("invalid_config", "NEW_NOT_MY_KEY is the same as NOT_MY_KEY");
  }
  if (new TextEncoder().encode(config.newSecret).byteLength < MIN_NEW_SECRET_BYTES) {
    throw new AppError(
      "invalid_config",
      `NEW_NOT_MY_KEY must be at least ${MIN_NEW_SECRET_BYTES} bytes; use 32 random bytes`,
    );
  }
  return { current: config.masterSecret, next: config.newSecret };
}

/** `secret rotate`: every key sealed again under the new secret, all at once. */
export async function secretRotate(command: Command, io: CommandIo): Promise<number> {
  const { current, next } = secrets(command, io);
  const reseal = rotatingSealer(createSealer(next), createSealer(current));
  try {
    return await withDatabase(command, io, { mustExist: true }, async (opened) => {
      let resealed = 0;
      const now = Math.floor(io.clock() / 1000);
      const count = await opened.store.resealKeys((kid, blob) => {
        const sealed = reseal.reseal(kid, blob);
        if (sealed !== null && kid !== CANARY_KID) resealed++;
        return sealed;
      }, { origin: origin(command), reason: "reseal", at: now });
      const keys = await listKeyInfo(opened.store, now);
      if (command.flags.json === true) io.write(jsonText({ resealed, keys }));
      else {
        io.write(
          count === 0
            ? "Nothing to do: every key is sealed with NEW_NOT_MY_KEY already\n"
            : `Re-sealed ${resealed} private keys and the secret check with NEW_NOT_MY_KEY, in one transaction; ` +
              `kids, the JWKS and issued tokens are unchanged\n`,
        );
        io.write(
          "Next: set NOT_MY_KEY to the new secret and restart the server. With several instances, start each with " +
            "NOT_MY_KEY=<new> NOT_MY_KEY_PREVIOUS=<old> until none runs with the old secret\n",
        );
      }
      return 0;
    });
  } catch (error) {
    if (!hasCode(error, "wrong_secret")) throw error;
    // Run again after it succeeded (a lost terminal, a retried deploy step): say so.
    const done = await withDatabase(
      command,
      { ...io, env: { ...io.env, NOT_MY_KEY: next } },
      { mustExist: true },
      () => Promise.resolve(true),
    ).catch(() => false);
    if (!done) throw error;
    io.write("Nothing to do: the database is sealed with NEW_NOT_MY_KEY already; set NOT_MY_KEY to it\n");
    return 0;
  }
}
