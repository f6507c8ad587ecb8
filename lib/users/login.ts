/**
 * Who a login is for, by auth mode. Password mode: only registered users with their password.
 * Open mode (the mock issuer): anyone gets a token, but a registered username must still present
 * that user's password, so a mock can never impersonate a real account. The edge hands in the
 * credentials it parsed; this module never reads a request.
 * @module
 */
import { AppError, hasCode } from "../core/errors.ts";
import type { UserService } from "./users.ts";

/** How logins are checked. */
export type AuthMode = "open" | "password";

/** Who a token is for: the subject and, for registered users, their id. */
export interface LoginSubject {
  readonly subject: string;
  readonly userId: number | null;
}

/** A username and password as a client sent them; either may be missing. */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
}

/** Why a login failed, for metrics. */
export type LoginFailure = "missing_credentials" | "invalid_credentials" | "locked_out";

/** Options of {@linkcode loginPolicy}. */
export interface LoginPolicyOptions {
  mode: AuthMode;
  /** Registered users; null when the server has no user store. */
  users: UserService | null;
  /** Told about every failed login. */
  onFailure?: (reason: LoginFailure) => void;
}

/** Checks credentials per the auth mode. */
export interface LoginPolicy {
  readonly mode: AuthMode;
  /** The subject for `credentials` at `now` (unix ms); throws `unauthorized` or `too_many_attempts`. */
  authenticate(credentials: Credentials, now: number): Promise<LoginSubject>;
}

const invalid = () => new AppError("unauthorized", "Invalid username or password");

/** Makes the {@linkcode LoginPolicy} for `options.mode`. */
export function loginPolicy(options: LoginPolicyOptions): LoginPolicy {
  const { mode, users } = options;
  const fail = (reason: LoginFailure, error: AppError): never => {
    options.onFailure?.(reason);
    throw error;
  };
  const check = async (username: string, password: string | undefined, now: number): Promise<LoginSubject> => {
    let user;
    try {
      user = password === undefined ? null : await users!.authenticate(username, password, now);
    } catch (error) {
      if (hasCode(error, "too_many_attempts")) options.onFailure?.("locked_out");
      throw error;
    }
    if (user === null) return fail("invalid_credentials", invalid());
    return { subject: user.username, userId: user.id };
  };
  return {
    mode,
    async authenticate({ username, password }, now) {
      if (mode === "password") {
        if (users === null || username === undefined || password === undefined || username === "") {
          return fail(
            "missing_credentials",
            new AppError(
              "unauthorized",
              "Send a username and password (JSON, form or Basic); to get one, POST /register " +
                '{"username","email"}, or start the server with --auth open for a mock issuer that gives anyone a token',
            ),
          );
        }
        return await check(username, password, now);
      }
      if (username === undefined || username === "") return { subject: "anonymous", userId: null };
      if (users !== null && await users.find(username) !== null) return await check(username, password, now);
      return { subject: username, userId: null };
    },
  };
}
