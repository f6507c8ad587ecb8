/**
 * The edge's middleware: the per-client rate limit (before any body is read or password hashed),
 * the bearer-token guard of the admin API (before anything else, preflight included), and
 * `no-store`. Each is a `(next) => handler` wrapper; none knows which route it guards.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "../core/errors.ts";
import type { RateDecision, RateLimiter } from "../core/rate_limit.ts";
import { errorResponse } from "./respond.ts";
import type { Middleware, RequestContext } from "./router.ts";

/** The `RateLimit-*` headers (IETF draft) of a decision. */
export function rateHeaders(decision: RateDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(Math.ceil(decision.resetMs / 1000)),
  };
}

/** Options of {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Keys the limit (`name|ip`) and labels the metric. */
  name: string;
  /** Unix milliseconds now. */
  clock: () => number;
  /** Told about every refused request. */
  onLimited?: (name: string) => void;
}

/**
 * Admits a request when `limiter` allows its client IP, else answers 429 with `Retry-After`.
 * Every answer, errors included, carries the `RateLimit-*` headers. With no limiter, a no-op.
 */
export function rateLimit(limiter: RateLimiter | null, options: RateLimitOptions): Middleware {
  if (limiter === null) return (next) => next;
  return (next) => async (ctx) => {
    const decision = await limiter.check(`${options.name}|${ctx.ip}`, options.clock());
    const headers = rateHeaders(decision);
    if (!decision.allowed) {
      options.onLimited?.(options.name);
      const retry = Math.max(1, Math.ceil(decision.resetMs / 1000));
      throw new AppError("rate_limited", `Too many requests; retry in ${retry} s`, { retryAfter: retry, headers });
    }
    let response: Response;
    try {
      response = await next(ctx);
    } catch (error) {
      return errorResponse(ctx, error, headers);
    }
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  };
}

/** Adds `Cache-Control: no-store` to whatever the handler answers. */
export const noStore: Middleware = (next) => async (ctx) => {
  const response = await next(ctx);
  response.headers.set("cache-control", "no-store");
  return response;
};

/** Options of {@linkcode bearerGuard}. */
export interface BearerGuardOptions {
  /** The realm named in `WWW-Authenticate`. */
  realm: string;
  /** Told about each refused request (never with the token). */
  onRefused?: (ctx: RequestContext) => void;
  /** Told about each admitted request. */
  onAdmitted?: (ctx: RequestContext) => void;
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Admits only requests with `Authorization: Bearer <token>`, compared in constant time (SHA-256
 * digests of both sides, so neither the content nor the length leaks); anything else is 401
 * before the body is read.
 */
export function bearerGuard(token: string, options: BearerGuardOptions): Middleware {
  const expected = digest(token);
  return (next) => (ctx) => {
    const header = ctx.request.headers.get("authorization");
    const match = header === null ? null : BEARER.exec(header);
    const ok = match !== null && timingSafeEqual(digest(match[1]!), expected);
    if (!ok) options.onRefused?.(ctx);
    if (match === null) {
      throw new AppError("unauthorized", "Send Authorization: Bearer <ADMIN_TOKEN>", {
        headers: { "www-authenticate": `Bearer realm="${options.realm}"` },
      });
    }
    if (!ok) {
      throw new AppError("unauthorized", "Invalid admin token", {
        headers: { "www-authenticate": `Bearer realm="${options.realm}", error="invalid_token"` },
      });
    }
    options.onAdmitted?.(ctx);
    return next(ctx);
  };
}
