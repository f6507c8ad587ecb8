/**
 * Opens the store a configuration names: PostgreSQL for a `postgres://` URL, else SQLite (with
 * retries when simultaneous first starts meet SQLITE_BUSY). The master secret's check runs
 * before anything is written.
 * @module
 */
import { type Sealer, secretCheck } from "../core/seal.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import { isPostgresUrl } from "../settings/database.ts";
import type { Store } from "./ports.ts";
import { openPostgresStore } from "./postgres.ts";
import { isBusyError, openSqliteStore } from "./sqlite.ts";

/** Opens the store for `config.db`. */
export async function openStore(
  config: { db: string },
  sealer: Sealer,
  options: { log?: Logger } = {},
): Promise<Store> {
  const secret = secretCheck(sealer);
  if (isPostgresUrl(config.db)) {
    const log = options.log ?? silentLogger;
    return await openPostgresStore(config.db, { secret, onError: (error) => log.error("database_error", { error }) });
  }
  // Several processes starting at once on a new file can meet SQLITE_BUSY where SQLite does not
  // wait (setting up WAL, a read-only look at a WAL being recovered): retry a few times.
  for (let attempt = 1;; attempt++) {
    try {
      return openSqliteStore(config.db, { secret });
    } catch (error) {
      if (attempt >= 20 || !isBusyError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    }
  }
}
