/**
 * The one error type of jwks-server. Every failure the program expects carries a stable string
 * `code` that callers switch on; the HTTP edge maps codes to statuses in one table and the CLI
 * maps them to exit codes. Messages never contain a secret, a token or a password.
 * @module
 */

/** Stable machine-readable error codes. Adding one is fine; renaming one breaks clients. */
export type ErrorCode =
  | "bad_request"
  | "invalid_json"
  | "invalid_field"
  | "payload_too_large"
  | "request_timeout"
  | "unsupported_media_type"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "rate_limited"
  | "too_many_attempts"
  | "overloaded"
  | "unavailable"
  | "invalid_config"
  | "usage"
  | "wrong_secret"
  | "corrupt_data"
  | "no_signing_key"
  | "invalid_key"
  | "internal";

/** Options of {@linkcode AppError}. */
export interface AppErrorOptions {
  /** The underlying error, kept for logs; never shown to clients. */
  cause?: unknown;
  /** For `invalid_field`/`conflict`: the field at fault. */
  field?: string;
  /** For `rate_limited`/`too_many_attempts`/`overloaded`: seconds before a retry can succeed. */
  retryAfter?: number;
  /** Extra response headers for the HTTP edge (for example `RateLimit-*`). */
  headers?: Readonly<Record<string, string>>;
}

/** An expected failure with a stable `code` and a message that is safe to show to anyone. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly retryAfter: number | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.field = options.field;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers;
  }
}

/** Configuration that cannot work: the message names the setting; exit code 2 at start. */
export class ConfigError extends AppError {
  constructor(message: string) {
    super("invalid_config", message);
    this.name = "ConfigError";
  }
}

/** A sealed blob that does not open: wrong master secret, a flipped byte, or a swapped row. */
export class SealError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super("wrong_secret", message, options);
    this.name = "SealError";
  }
}

/** True when `error` is an {@linkcode AppError} with the given code. */
export function hasCode(error: unknown, code: ErrorCode): error is AppError {
  return error instanceof AppError && error.code === code;
}
