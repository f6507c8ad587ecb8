/**
 * Registered users: registration with a generated UUIDv4 password shown once, and credential
 * checks that cost the same for unknown and known usernames, under the per-username-and-IP
 * backoff of `backoff.ts`. Names are one account whatever their case or Unicode form (the store
 * compares them by `canonicalName`). Hashing comes in through an injected `Hasher` (fair per
 * client IP when it is a `HashQueue`); storage through the `UserStore` port; time through parameters.
 * @module
 */
import { LoginBackoff } from "./backoff.ts";
import type { Hasher } from "./hash_queue.ts";
import { AppError } from "../core/errors.ts";
import { canonicalName, normalizedName } from "../core/names.ts";
import type { NewUser, UserRecord, UserStore } from "../store/ports.ts";

/** Longest username and password accepted, in characters. */
export const MAX_USERNAME = 64;
export const MAX_PASSWORD = 1024;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]*$/;
const EMAIL = /^[^\s@<>()",;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/**
 * Checks a username for registration and returns it in NFKC (full-width letters become ASCII);
 * throws `invalid_field` naming `username`.
 */
export function validateUsername(input: unknown): string {
  if (typeof input !== "string" || input.length === 0) {
    throw new AppError("invalid_field", "Username is required", { field: "username" });
  }
  const value = input.length > MAX_USERNAME * 4 ? input : normalizedName(input);
  if (value.length > MAX_USERNAME || !USERNAME.test(value)) {
    throw new AppError(
      "invalid_field",
      `Username must be 1 to ${MAX_USERNAME} letters, digits or . _ @ + - and start with a letter or digit`,
      { field: "username" },
    );
  }
  return value;
}

/** Checks an email address and returns it in NFKC; throws `invalid_field` naming `email`. */
export function validateEmail(input: unknown): string {
  if (typeof input !== "string" || input.length === 0) {
    throw new AppError("invalid_field", "Email is required", { field: "email" });
  }
  const value = input.length > 254 * 4 ? input : normalizedName(input);
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
  async register(
    username: unknown,
    email: unknown,
    now: number,
    options: { client?: string } = {},
  ): Promise<{ user: UserRecord; password: string }> {
    const user: NewUser = {
      username: validateUsername(username),
      email: email === undefined || email === null ? null : validateEmail(email),
      passwordHash: "",
    };
    if (await this.#store.findUser(user.username) !== null) {
      throw new AppError("conflict", "That username is already registered", { field: "username" });
    }
    const password = crypto.randomUUID();
    const passwordHash = await this.#hasher.hash(password, options.client === undefined ? {} : options);
    const created = await this.#store.createUser({ ...user, passwordHash }, now);
    return { user: created, password };
  }

  /**
   * Creates `username` or resets its password (used by `--seed-user`); a user whose name
   * differs only in case or Unicode form is the same user. Idempotent.
   */
  async upsert(username: string, password: string, now: number, email: string | null = null): Promise<UserRecord> {
    const name = validateUsername(username);
    const existing = await this.#store.findUser(name);
    if (existing !== null && await this.#hasher.verify(existing.passwordHash, password)) return existing;
    const passwordHash = await this.#hasher.hash(password);
    return await this.#store.upsertUser({ username: existing?.username ?? name, email, passwordHash }, now);
  }

  /** Computes the hash unknown usernames are checked against, so the first one costs no more. */
  async prepare(): Promise<void> {
    await this.#dummy();
  }

  /** The registered user named `username` (in any case or Unicode form), or null. */
  find(username: string): Promise<UserRecord | null> {
    if (username.length > MAX_USERNAME * 4) return Promise.resolve(null);
    const name = normalizedName(username);
    return name.length > MAX_USERNAME ? Promise.resolve(null) : this.#store.findUser(name);
  }

  /**
   * Checks `password` for `username` at `now` (unix ms), sent from client `options.ip`.
   * Returns the user, or null for a wrong password or an unknown username: both cost one hash
   * verification. A username or password longer than the limits is refused before any state is
   * kept or any hash computed (no such account can exist). Throws `too_many_attempts` while
   * this username is backing off for this IP (without hashing).
   */
  async authenticate(
    username: string,
    password: string,
    now: number,
    options: { ip?: string } = {},
  ): Promise<UserRecord | null> {
    if (username.length > MAX_USERNAME * 4 || password.length > MAX_PASSWORD) return null;
    const name = normalizedName(username);
    if (name.length === 0 || name.length > MAX_USERNAME) return null;
    const key = { username: canonicalName(name), ip: options.ip ?? "" };
    const wait = this.backoff?.waitMs(key, now) ?? 0;
    if (wait > 0) {
      throw new AppError("too_many_attempts", "Too many failed logins for this user; try again later", {
        retryAfter: Math.ceil(wait / 1000),
      });
    }
    const user = await this.#store.findUser(name);
    const hash = user?.passwordHash ?? await this.#dummy();
    const ok = await this.#hasher.verify(hash, password, options.ip === undefined ? {} : { client: options.ip }) &&
      user !== null;
    if (!ok) {
      this.backoff?.fail(key, now);
      return null;
    }
    this.backoff?.succeed(key);
    return user;
  }

  /** A real hash of a random password, so unknown usernames cost a real verification. */
  #dummy(): Promise<string> {
    this.#dummyHash ??= this.#hasher.hash(crypto.randomUUID());
    return this.#dummyHash;
  }
}
