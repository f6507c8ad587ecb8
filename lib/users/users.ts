/**
 * Registered users: registration with a generated UUIDv4 password shown once, credential
 * checks that cost the same for unknown and known usernames, per-username brute-force backoff,
 * and a hashing queue with a concurrency cap and a bounded backlog. Hashing comes in through an
 * injected {@linkcode Hasher}; storage through the `UserStore` port; time through parameters.
 * @module
 */
import type { LoginBackoffPolicy } from "../settings.ts";
import { AppError } from "../core/errors.ts";
import type { NewUser, UserRecord, UserStore } from "../store/ports.ts";

/** Hashes and verifies passwords. Implementations must not block the calling thread. */
export interface Hasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

/** Options of {@linkcode HashQueue}. */
export interface HashQueueOptions {
  /** Hashes computed at once. Default 1. */
  concurrency?: number;
  /** Requests allowed to wait for a slot; beyond that, `overloaded`. Default 64. */
  maxQueue?: number;
}

/**
 * Caps concurrent hashing and bounds the backlog, so a login flood cannot starve the CPU that
 * serves the JWKS: work beyond `concurrency + maxQueue` fails fast with `overloaded` (503 with
 * `Retry-After`).
 */
export class HashQueue implements Hasher {
  readonly concurrency: number;
  readonly maxQueue: number;
  #inner: Hasher;
  #running = 0;
  #waiting: (() => void)[] = [];
  /** Completed hash/verify operations, for metrics. */
  completed = 0;
  /** Operations refused because the queue was full, for metrics. */
  rejected = 0;

  constructor(inner: Hasher, options: HashQueueOptions = {}) {
    this.#inner = inner;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.maxQueue = Math.max(0, Math.floor(options.maxQueue ?? 64));
  }

  /** Operations waiting for a slot. */
  get depth(): number {
    return this.#waiting.length;
  }

  /** Operations running now. */
  get running(): number {
    return this.#running;
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueue) {
        this.rejected++;
        throw new AppError("overloaded", "Too many logins in progress; try again shortly", { retryAfter: 1 });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      this.completed++;
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter, so the running count never dips.
      if (next === undefined) this.#running--;
      else next();
    }
  }

  hash(password: string): Promise<string> {
    return this.#run(() => this.#inner.hash(password));
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.#run(() => this.#inner.verify(hash, password));
  }
}

/** Brute-force backoff policy. */
export interface BackoffPolicy extends LoginBackoffPolicy {
  /** Usernames tracked at most; the least recently failed are forgotten first. */
  readonly maxEntries: number;
}

/** The default backoff: 5 free failures, then 1 s doubling up to 15 min, 10,000 usernames. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  freeFailures: 5,
  baseMs: 1000,
  maxMs: 15 * 60_000,
  maxEntries: 10_000,
});

interface Failures {
  count: number;
  lockedUntil: number;
}

/**
 * Per-username exponential backoff: after `freeFailures` failed logins, each further failure
 * locks the username for `baseMs · 2^(n-1)` (capped at `maxMs`); a success resets it. Unknown
 * usernames are tracked the same way, so the lockout reveals nothing about who exists.
 */
export class LoginBackoff {
  readonly policy: BackoffPolicy;
  #entries = new Map<string, Failures>();

  constructor(policy: BackoffPolicy = DEFAULT_BACKOFF) {
    this.policy = policy;
  }

  /** Usernames currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Milliseconds `username` must wait at `now`, or 0 when it may try. */
  waitMs(username: string, now: number): number {
    const entry = this.#entries.get(username);
    return entry === undefined ? 0 : Math.max(0, entry.lockedUntil - now);
  }

  /** Records a failed attempt at `now`. */
  fail(username: string, now: number): void {
    const entry = this.#entries.get(username) ?? { count: 0, lockedUntil: 0 };
    this.#entries.delete(username);
    entry.count++;
    const over = entry.count - this.policy.freeFailures;
    if (over > 0) {
      entry.lockedUntil = now + Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(over - 1, 40));
    }
    this.#entries.set(username, entry);
    while (this.#entries.size > this.policy.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Forgets the failures of `username` after a successful login. */
  succeed(username: string): void {
    this.#entries.delete(username);
  }
}

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
