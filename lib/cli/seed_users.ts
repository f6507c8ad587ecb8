/**
 * The seed-users file of `serve --seed-users-file FILE` (or `JWKS_SEED_USERS_FILE`): one
 * `NAME:PASSWORD` per line (blank lines and `#` comments skipped; a password may hold `:` and
 * `,`), in a regular file only its owner can read, so real passwords stay off command lines,
 * out of `ps` and out of `deno task`'s echo. Errors name the line, never its content.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { SeedUser } from "../settings/define.ts";
import { readInput } from "./files.ts";

const refused = (message: string) => new AppError("invalid_config", message);

/** The users in the seed-users file at `path`. Throws `invalid_config` (exit 2) with the fix. */
export async function readSeedUsersFile(path: string): Promise<SeedUser[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw refused(`Seed users file "${path}" does not exist`);
    throw error;
  }
  if (!info.isFile) throw refused(`Seed users file "${path}" is not a regular file`);
  const mode = (info.mode ?? 0) & 0o777;
  if ((mode & 0o077) !== 0) {
    throw refused(
      `Seed users file "${path}" is readable by others (mode 0${mode.toString(8)}); run: chmod 600 "${path}"`,
    );
  }
  const text = await readInput(path, { readStdin: () => Promise.resolve("") }, "Seed users file", {
    maxBytes: 1024 * 1024,
  });
  const users: SeedUser[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    const username = line.slice(0, colon).trim();
    const password = raw.slice(raw.indexOf(":") + 1);
    if (colon <= 0 || username === "" || password === "") {
      throw refused(`Seed users file "${path}", line ${index + 1}: expected NAME:PASSWORD (the line is not shown)`);
    }
    users.push(Object.freeze({ username, password }));
  }
  return users;
}
