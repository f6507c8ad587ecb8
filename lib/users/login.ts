/**
 * Who a login is for, by auth mode. Password mode: only registered users with their password.
 * Open mode (the mock issuer): anyone gets a token, but a registered username (in any case or
 * Unicode form) must still present that user's password, so a mock can never impersonate a real
 * account, and a free-form subject must be short and printable. The edge hands in the
 * credentials it parsed and the client IP; this module never reads a request.
 * @module
 */
import { AppError, hasCode } from "../core/errors.ts";
import { subjectProblem } from "../core/names.ts";
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
  /**
   * The subject for `credentials` at `now` (unix ms), sent from `options.ip` (which keys the
   * backoff and the share of hashing); throws `unauthorized`, `too_many_attempts`, `overloaded`,
   * or `invalid_field` for an open-mode subject that is too long or not printable.
   */
  authenticate(credentials: Credentials, now: number, options?: { ip?: string }): Promise<LoginSubject>;
}

const invalid = () => new AppError("unauthorized", "Invalid username or password");

/** Makes the {@linkcode LoginPolicy} for `options.mode`. */
export function loginPolicy(options: LoginPolicyOptions): LoginPolicy {
  const { mode, users } = options;
  const fail = (reason: LoginFailure, error: AppError): never => {
    options.onFailure?.(reason);
    throw error;
  };
  const check = async (
    username: string,
    password: string | undefined,
    now: number,
    ip: { ip?: string },
  ): Promise<LoginSubject> => {
    let user;
    try {
      user = password === undefined ? null : await users!.authenticate(username, password, now, ip);
    } catch (error) {
      if (hasCode(error, "too_many_attempts")) options.onFailure?.("locked_out");
      throw error;
    }
    if (user === null) return fail("invalid_credentials", invalid());
    return { subject: user.username, userId: user.id };
  };
  return {
    mode,
    async authenticate({ username, password }, now, options = {}) {
      const ip = options.ip === undefined ? {} : { ip: options.ip };
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
        return await check(username, password, now, ip);
      }
      if (username === undefined || username === "") return { subject: "anonymous", userId: null };
      const problem = subjectProblem(username);
      if (problem !== null) {
        throw new AppError("invalid_field", `Username (the token's subject) ${problem}`, { field: "username" });
      }
      if (users !== null && await users.find(username) !== null) return await check(username, password, now, ip);
      return { subject: username, userId: null };
    },
  };
}
