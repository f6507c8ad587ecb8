/**
 * The storage ports: what the core asks of a database, and nothing about how; what a backend
 * offers the registry; and how storage failures look to clients. SQLite (`sqlite.ts`) is the
 * embedded default; every backend must pass the shared contract suite in
 * `tests/support/store_contract.ts`.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { KeyRecord, PlannedUpdate } from "../core/key_lifecycle.ts";
import type { Alg } from "../core/key_material.ts";
import type { SecretCheck } from "../core/seal.ts";
import type { OAuthStore } from "./oauth_ports.ts";

/** A key row to create. The store picks the row id, then asks `seal` for the blob bound to it. */
export interface KeyInsert
  extends Pick<KeyRecord, "kid" | "alg" | "publicJwk" | "createdAt" | "activatesAt" | "retiresAt" | "exp"> {
  /** Seals the private key for row `id`. Synchronous so it can run inside a transaction. */
  readonly seal: (id: number) => Uint8Array;
}

/**
 * The key policy as it is stored with the keys (`jwks_key_policy`): the settings the key set was
 * last planned with. Times are unix seconds.
 */
export interface StoredPolicy {
  readonly rotationInterval: number;
  readonly tokenTtl: number;
  readonly clockSkew: number;
  readonly retention: number;
  readonly alg: Alg;
  /**
   * JWKS answers served under an earlier policy, with a max-age of up to `cachedMaxAge`, may
   * be cached until `cachedUntil` (both 0 when nothing is cached longer than this policy says).
   */
  readonly cachedMaxAge: number;
  readonly cachedUntil: number;
  readonly updatedAt: number;
}

/** Who changed the key set and why, stored with the change so other processes can say so. */
export interface KeyChangeNote {
  /** The process and command: `keys revoke (pid 4242 on build-1)`. */
  readonly origin: string;
  /** `maintain`, `rotate`, `revoke`, `import`, `policy` or `reseal`. */
  readonly reason: string;
  /** When, in unix seconds. */
  readonly at: number;
}

/** A stored {@linkcode KeyChangeNote}, with the keys version the change made. */
export interface KeyChangeRecord extends KeyChangeNote {
  readonly version: number;
}

/** Changes to apply to the key set in one transaction. */
export interface KeyChanges {
  readonly inserts: readonly KeyInsert[];
  readonly updates: readonly PlannedUpdate[];
  /** Row ids to delete. */
  readonly deletes: readonly number[];
  /** The policy to store with the keys, when it changes. */
  readonly policy?: StoredPolicy;
  /** Stored with the change (when anything changed), for the other processes' logs. */
  readonly note?: KeyChangeNote;
}

/** What a key transaction did: the ids of inserted rows, in the order of `inserts`. */
export interface AppliedKeyChanges extends KeyChanges {
  readonly insertedIds: readonly number[];
  /** The keys version after the transaction. */
  readonly version: number;
  /** Every key after the transaction. */
  readonly keys: readonly KeyRecord[];
}

/**
 * Re-seals one blob: returns the new blob, or null when it is already sealed as wanted. Throws
 * to abort the whole re-seal (nothing is written). Synchronous, as it runs inside a transaction.
 */
export type Reseal = (kid: number | string, blob: Uint8Array) => Uint8Array | null;

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
  updateKeys(
    plan: (keys: readonly KeyRecord[], policy: StoredPolicy | null) => KeyChanges,
  ): Promise<AppliedKeyChanges>;
  /** The stored key policy, or null when none was stored yet. */
  keyPolicy(): Promise<StoredPolicy | null>;
  /** The change notes of the keys versions after `version`, oldest first (the latest 1,000 are kept). */
  keyChanges(version: number): Promise<KeyChangeRecord[]>;
  /**
   * Re-seals every private key and the master-secret canary with `reseal` in one exclusive
   * transaction: all or nothing. Returns how many blobs changed (the canary included).
   */
  resealKeys(reseal: Reseal, note: KeyChangeNote): Promise<number>;
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
  /**
   * Deletes up to `limit` of the oldest `auth_logs` rows from before `before` (unix ms), in one
   * short transaction. Returns how many it deleted: fewer than `limit` when it caught up.
   */
  pruneLogins(before: number, limit: number): Promise<number>;
}

/** A whole database: keys, users, the master-secret check, and its lifecycle. */
export interface Store extends KeyStore, UserStore {
  /** A short description for logs, with any password removed. */
  readonly description: string;
  /** OAuth clients, grants, refresh tokens and revoked access tokens. */
  readonly oauth: OAuthStore;
  /** True when this open created the database (no master-secret canary was there before). */
  readonly created: boolean;
  /** Resolves when the database answers a trivial query; throws otherwise. */
  ping(): Promise<void>;
  /**
   * Moves what the write-ahead log holds into the database file (SQLite), so that a copy of the
   * file alone is complete up to now; nothing for a server database.
   */
  checkpoint(): Promise<void>;
  /**
   * Writes a consistent copy of the whole database to the new file `path` while others keep
   * reading and writing (SQLite's online backup). Throws `bad_request` for a server database.
   */
  backup(path: string): Promise<void>;
  /** Closes the connection; pending writes are finished first (SQLite checkpoints the WAL). */
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
