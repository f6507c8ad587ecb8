/**
 * Registered users: registration with a generated UUIDv4 password shown once, and credential
 * checks that cost the same for unknown and known usernames, under the per-username backoff of
 * `backoff.ts`. Hashing comes in through an injected `Hasher`; storage through the `UserStore`
 * port; time through parameters.
 * @module
 */
import { LoginBackoff } from "./backoff.ts";
import type { Hasher } from "./hash_queue.ts";
import { AppError } from "../core/errors.ts";
import type { NewUser, UserRecord, UserStore } from "../store/ports.ts";

/** Longest username and password accepted, in characters. */
export const MAX_USERNAME = 64;
export const MAX_PASSWORD = 1024;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]*$/;
const EMAIL = /^[^\s@<>()",;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** Checks a username for registration; throws `invalid_field` naming `username`. */
export function validateUsername(value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new AppError("invalid_field", "Username is required", { field: "username" });
  }
  if (value.length > MAX_USERNAME || !USERNAME.test(value)) {
    throw new AppError(
      "invalid_field",
      `Username must be 1 to ${MAX_USERNAME} letters, digits or . _ @ + - and start with a letter or digit`,
      { field: "username" },
    );
  }
  return value;
}

/** Checks an email address; throws `invalid_field` naming `email`. */
export function validateEmail(value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new AppError("invalid_field", "Email is required", { field: "email" });
  }
  if (value.length > 254 || !EMAIL.test(value)) {
    throw new AppError("invalid_field", "Email must be an address such as name@example.com", { field: "email" });
  }
  return value;
}

/** Options of {@linkcode UserService}. */
export interface UserServiceOptions {
  store: UserStore;
  hasher: Hasher;
  /** Per-username backoff; null turns it off. Default {@linkcode DEFAULT_BACKOFF}. */
  backoff?: LoginBackoff | null;
}

/** Registration and credential checks. */
export class UserService {
  readonly backoff: LoginBackoff | null;
  #store: UserStore;
  #hasher: Hasher;
  #dummyHash: Promise<string> | null = null;

  constructor(options: UserServiceOptions) {
    this.#store = options.store;
    this.#hasher = options.hasher;
    this.backoff = options.backoff === undefined ? new LoginBackoff() : options.backoff;
  }

  /**
   * Registers `username` at `now` (unix ms) with a fresh UUIDv4 password, stored only as a
   * hash. Returns the password: the only time it is ever shown.
   */
  async register(username: unknown, email: unknown, now: number): Promise<{ user: UserRecord; password: string }> {
    const user: NewUser = {
      username: validateUsername(username),
      email: email === undefined || email === null ? null : validateEmail(email),
      passwordHash: "",
    };
    if (await this.#store.findUser(user.username) !== null) {
      throw new AppError("conflict", "That username is already registered", { field: "username" });
    }
    const password = crypto.randomUUID();
    const created = await this.#store.createUser({ ...user, passwordHash: await this.#hasher.hash(password) }, now);
    return { user: created, password };
  }

  /** Creates `username` or resets its password (used by `--seed-user`). Idempotent. */
  async upsert(username: string, password: string, now: number, email: string | null = null): Promise<UserRecord> {
    validateUsername(username);
    const existing = await this.#store.findUser(username);
    if (existing !== null && await this.#hasher.verify(existing.passwordHash, password)) return existing;
    return await this.#store.upsertUser({ username, email, passwordHash: await this.#hasher.hash(password) }, now);
  }

  /** Computes the hash unknown usernames are checked against, so the first one costs no more. */
  async prepare(): Promise<void> {
    await this.#dummy();
  }

  /** The registered user named `username`, or null. */
  find(username: string): Promise<UserRecord | null> {
    return this.#store.findUser(username);
  }

  /**
   * Checks `password` for `username` at `now` (unix ms). Returns the user, or null for a
   * wrong password or an unknown username: both cost one hash verification. Throws
   * `too_many_attempts` while the username is backing off (without hashing).
   */
  async authenticate(username: string, password: string, now: number): Promise<UserRecord | null> {
    const wait = this.backoff?.waitMs(username, now) ?? 0;
    if (wait > 0) {
      throw new AppError("too_many_attempts", "Too many failed logins for this user; try again later", {
        retryAfter: Math.ceil(wait / 1000),
      });
    }
    const user = username.length <= MAX_USERNAME && password.length <= MAX_PASSWORD
      ? await this.#store.findUser(username)
      : null;
    const hash = user?.passwordHash ?? await this.#dummy();
    const ok = await this.#hasher.verify(hash, password) && user !== null;
    if (!ok) {
      this.backoff?.fail(username, now);
      return null;
    }
    this.backoff?.succeed(username);
    return user;
  }

  /** A real hash of a random password, so unknown usernames cost a real verification. */
  #dummy(): Promise<string> {
    this.#dummyHash ??= this.#hasher.hash(crypto.randomUUID());
    return this.#dummyHash;
  }
}
