/**
 * The storage backends, one line each, and the one way to open a store from a `--db` value:
 * the first backend whose `matches` takes it. Settings, the master secret and the commands
 * ask the registry what a value means (a file? a server that needs `NOT_MY_KEY`?) instead of
 * testing URL schemes themselves. Adding a backend: its module, a line here, and its harness
 * in the shared contract suite (`tests/support/store_contract.ts`).
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { OpenStoreOptions, Store, StoreBackend } from "./ports.ts";
import { postgresBackend } from "./postgres.ts";
import { sqliteBackend } from "./sqlite.ts";

/** Every backend, in the order they are tried and described. */
export const BACKENDS: readonly StoreBackend[] = Object.freeze([
  sqliteBackend,
  postgresBackend,
]);

/** The backend that takes `url`, or null when none does (an unknown URL scheme). */
export function findBackend(url: string): StoreBackend | null {
  return BACKENDS.find((backend) => backend.matches(url)) ?? null;
}

/** The `--db` values the backends take, as one phrase: "a file path, :memory: or a postgres:// URL". */
export function describeBackends(): string {
  const phrases = BACKENDS.flatMap((backend) => backend.describe);
  return phrases.length < 2 ? phrases.join("") : `${phrases.slice(0, -1).join(", ")} or ${phrases.at(-1)}`;
}

/** The backend that takes `url`. Throws `invalid_config` when none does. */
export function backendFor(url: string): StoreBackend {
  const backend = findBackend(url);
  // The value is not echoed: an unknown URL may carry a password.
  if (backend === null) throw new AppError("invalid_config", `The database must be ${describeBackends()}`);
  return backend;
}

/**
 * Opens the store at `url` with its backend: checks the master secret before any write, then
 * migrates. Throws what the backend throws (`wrong_secret`, `corrupt_data`, `unavailable`, …).
 *
 * @example Open the grader's SQLite file
 * ```ts
 * const store = await openStore("./totally_not_my_privateKeys.db", { secret: secretCheck(sealer) });
 * ```
 */
export function openStore(url: string, options: OpenStoreOptions): Promise<Store> {
  try {
    return backendFor(url).open(url, options);
  } catch (error) {
    return Promise.reject(error);
  }
}
