/**
 * OAuth's error shape: {@linkcode OAuthError} carries an RFC 6749 §5.2 (RFC 6750 §3.1, RFC 7009,
 * RFC 8707) error code and its HTTP status, and {@linkcode oauthErrors} is the middleware that
 * answers every failure on the OAuth endpoints as `{"error", "error_description"}` — our own
 * `{"error","message"}` errors (a too-large body, the rate limit, a 405) included, mapped to the
 * nearest OAuth code with their status and headers kept.
 * @module
 */
import { AppError, type ErrorCode } from "../core/errors.ts";
import { json, STATUS } from "../http/respond.ts";
import type { Middleware, RequestContext } from "../http/router.ts";

/** The OAuth error codes this server answers with. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_target"
  | "invalid_token"
  | "insufficient_scope"
  | "server_error"
  | "temporarily_unavailable";

/** Options of {@linkcode OAuthError}. */
export interface OAuthErrorOptions {
  /** HTTP status; 400 by default, 401 for `invalid_client` and `invalid_token`, 403 for `insufficient_scope`. */
  status?: number;
  headers?: Readonly<Record<string, string>>;
  retryAfter?: number;
  cause?: unknown;
}

const DEFAULT_STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

/** An OAuth error: `oauthCode` is what the client reads; `code` stays a stable `AppError` code. */
export class OAuthError extends AppError {
  readonly oauthCode: OAuthErrorCode;
  readonly status: number;

  constructor(oauthCode: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    const status = options.status ?? DEFAULT_STATUS[oauthCode] ?? 400;
    const code: ErrorCode = status === 401 ? "unauthorized" : status === 403 ? "forbidden" : "bad_request";
    super(code, description, {
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.retryAfter === undefined ? {} : { retryAfter: options.retryAfter }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = "OAuthError";
    this.oauthCode = oauthCode;
    this.status = status;
  }
}

/** The OAuth code for one of our own error codes (a body too large is still a bad request). */
function oauthCodeOf(code: ErrorCode, status: number): OAuthErrorCode {
  if (code === "unauthorized") return "invalid_client";
  if (code === "too_many_attempts") return "invalid_grant";
  if (status >= 500) return status === 503 ? "temporarily_unavailable" : "server_error";
  return "invalid_request";
}

/** The RFC 6749 §5.2 response for `error`; unknown errors are reported and become a bare `server_error`. */
export function oauthErrorResponse(ctx: Pick<RequestContext, "requestId" | "report">, error: unknown): Response {
  if (!(error instanceof AppError)) {
    ctx.report(error);
    return json(ctx, 500, { error: "server_error", error_description: "Internal server error" }, noStore({}));
  }
  const status = error instanceof OAuthError ? error.status : STATUS[error.code];
  if (status >= 500) ctx.report(error);
  const oauthCode = error instanceof OAuthError ? error.oauthCode : oauthCodeOf(error.code, status);
  const headers: Record<string, string> = noStore({ ...error.headers });
  if (error.retryAfter !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfter)));
  return json(ctx, status, { error: oauthCode, error_description: error.message }, headers);
}

function noStore(headers: Record<string, string>): Record<string, string> {
  return { ...headers, "cache-control": "no-store", pragma: "no-cache" };
}

/**
 * Answers whatever the handler throws in the OAuth shape. Put it outermost on a route (so the
 * router's 405 and the rate limit's 429 are covered) and again inside any middleware that would
 * answer errors itself.
 */
export const oauthErrors: Middleware = (next) => async (ctx) => {
  try {
    return await next(ctx);
  } catch (error) {
    return oauthErrorResponse(ctx, error);
  }
};
