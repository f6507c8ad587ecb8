/**
 * Responses of the edge: JSON bodies with the request id, and the one table that maps error
 * codes to HTTP statuses. Every error body is `{"error", "message"}` (plus `field` where a field
 * is at fault); unknown errors become a reported, generic 500 that carries no detail.
 * @module
 */
import { AppError, type ErrorCode } from "../core/errors.ts";

/** HTTP status for each error code: the one table. */
export const STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  bad_request: 400,
  invalid_json: 400,
  invalid_field: 400,
  invalid_key: 400,
  usage: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_attempts: 429,
  internal: 500,
  invalid_config: 500,
  wrong_secret: 500,
  corrupt_data: 500,
  overloaded: 503,
  unavailable: 503,
  no_signing_key: 503,
});

/** `Cache-Control: no-store`, for every answer that carries a credential or live state. */
export const NO_STORE: Readonly<Record<string, string>> = Object.freeze({ "cache-control": "no-store" });

const JSON_TYPE = "application/json";

/** The part of a request context a response needs: its id, and where to report a fault. */
export interface Answering {
  readonly requestId: string;
  /** Reports an unexpected error (logged with the request id). */
  report(error: unknown): void;
}

/** A JSON response with the request id and any extra headers. */
export function json(
  ctx: Pick<Answering, "requestId">,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_TYPE, "x-request-id": ctx.requestId, ...headers },
  });
}

/** The HTTP status of `error`: its code's, or 500 for anything that is not an `AppError`. */
export function statusOf(error: unknown): number {
  return error instanceof AppError ? STATUS[error.code] : 500;
}

/** The `{"error","message"}` response for `error`; unknown errors become a reported generic 500. */
export function errorResponse(
  ctx: Answering,
  error: unknown,
  headers: Readonly<Record<string, string>> = {},
): Response {
  if (!(error instanceof AppError)) {
    ctx.report(error);
    return json(ctx, 500, { error: "internal", message: "Internal server error" }, headers);
  }
  const status = STATUS[error.code];
  if (status >= 500) ctx.report(error);
  const extra: Record<string, string> = { ...headers, ...error.headers };
  if (error.retryAfter !== undefined) extra["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfter)));
  if (error.code === "unauthorized") extra["www-authenticate"] ??= 'Basic realm="jwks-server", charset="UTF-8"';
  const body: Record<string, string> = { error: error.code, message: error.message };
  if (error.field !== undefined) body.field = error.field;
  return json(ctx, status, body, extra);
}
