/**
 * The storage ports: what the core asks of a database, and nothing about how; what a backend
 * offers the registry; and how storage failures look to clients. SQLite (`sqlite.ts`) is the
 * embedded default; every backend must pass the shared contract suite in
 * `tests/support/store_contract.ts`.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { KeyRecord, PlannedUpdate } from "../core/key_lifecycle.ts";
import type { SecretCheck } from "../core/seal.ts";

/** A key row to create. The store picks the row id, then asks `seal` for the blob bound to it. */
export interface KeyInsert
  extends Pick<KeyRecord, "kid" | "alg" | "publicJwk" | "createdAt" | "activatesAt" | "retiresAt" | "exp"> {
  /** Seals the private key for row `id`. Synchronous so it can run inside a transaction. */
  readonly seal: (id: number) => Uint8Array;
}

/** Changes to apply to the key set in one transaction. */
export interface KeyChanges {
  readonly inserts: readonly KeyInsert[];
  readonly updates: readonly PlannedUpdate[];
  /** Row ids to delete. */
  readonly deletes: readonly number[];
}

/** What a key transaction did: the ids of inserted rows, in the order of `inserts`. */
export interface AppliedKeyChanges extends KeyChanges {
  readonly insertedIds: readonly number[];
}

/** Persistent key storage. */
export interface KeyStore {
  /** Every key we manage (rows of other programs are ignored), oldest first. */
  listKeys(): Promise<KeyRecord[]>;
  /** A number that changes whenever the key set changes, cheap enough to poll. */
  keysVersion(): Promise<number>;
  /**
   * Runs `plan` on the current keys inside an exclusive transaction, applies the changes it
   * returns and bumps the keys version when anything changed. `plan` must be synchronous and
   * pure: it may be called again when the transaction is retried.
   */
  updateKeys(plan: (keys: readonly KeyRecord[]) => KeyChanges): Promise<AppliedKeyChanges>;
}

/** A registered user. */
export interface UserRecord {
  readonly id: number;
  readonly username: string;
  readonly email: string | null;
  readonly passwordHash: string;
}

/** A user to create. */
export interface NewUser {
  readonly username: string;
  readonly email: string | null;
  readonly passwordHash: string;
}

/** One successful login, for the `auth_logs` table. */
export interface LoginEvent {
  readonly userId: number | null;
  readonly ip: string;
  /** Unix milliseconds. */
  readonly at: number;
}

/** Persistent user storage. */
export interface UserStore {
  /**
   * Creates a user registered at `now` (unix ms). Throws `conflict` with `field` set to
   * `username` or `email` when either is taken, in any case or Unicode form (`canonicalName`).
   */
  createUser(user: NewUser, now: number): Promise<UserRecord>;
  /**
   * Creates the user or replaces the password hash (and email when given) of the user with the
   * same name in any case or Unicode form, keeping that user's spelling.
   */
  upsertUser(user: NewUser, now: number): Promise<UserRecord>;
  /** The user with exactly this username, else the one whose name has the same `canonicalName`, or null. */
  findUser(username: string): Promise<UserRecord | null>;
  /** Writes login rows to `auth_logs` and updates `users.last_login`, in one transaction. */
  recordLogins(events: readonly LoginEvent[]): Promise<void>;
}

/** A whole database: keys, users, the master-secret check, and its lifecycle. */
export interface Store extends KeyStore, UserStore {
  /** A short description for logs, with any password removed. */
  readonly description: string;
  /** Resolves when the database answers a trivial query; throws otherwise. */
  ping(): Promise<void>;
  /** Closes the connection; pending writes are finished first. */
  close(): Promise<void>;
}

/** What opening a store needs, whatever the backend. */
export interface OpenStoreOptions {
  /** Checks the master secret against the database before any write. */
  readonly secret: SecretCheck;
  /** Told about failures outside any call (an idle connection dropped by a restarted server). */
  readonly onError?: (error: unknown) => void;
}

/** One storage backend, as the registry (`registry.ts`) lists it. */
export interface StoreBackend {
  /** Its name in messages: "SQLite", "PostgreSQL". */
  readonly name: string;
  /** The `--db` values it takes, as phrases for help and errors ("a postgres:// URL"). */
  readonly describe: readonly string[];
  /**
   * True when the database outlives this host (a server): the master secret must come from
   * `NOT_MY_KEY`, since a development secret file would exist on one machine only.
   */
  readonly needsSecret: boolean;
  /** True when this backend takes `url`. */
  matches(url: string): boolean;
  /**
   * True when `url` is a file path: a development secret file lives beside it and commands can
   * check it exists. False for a server, and for a database that vanishes with the process.
   */
  isFile(url: string): boolean;
  /** Opens (creating and migrating when needed) the database at `url`. */
  open(url: string, options: OpenStoreOptions): Promise<Store>;
}

/** What a client is told when the database fails while serving, by error code. */
const PUBLIC_MESSAGES: Partial<Record<string, string>> = {
  unavailable: "The database is unavailable right now; try again shortly",
  corrupt_data: "The database is damaged",
};

/**
 * A storage failure while serving, as HTTP clients see it: the same code as `detailed`, with a
 * message that names neither the database (file path or URL) nor the driver's words, and
 * `Retry-After` for an outage. The detailed error is the `cause`, which the logs show.
 */
export function publicStoreError(detailed: AppError): AppError {
  return new AppError(detailed.code, PUBLIC_MESSAGES[detailed.code] ?? "The database failed", {
    cause: detailed,
    ...(detailed.code === "unavailable" ? { retryAfter: 2 } : {}),
  });
}
