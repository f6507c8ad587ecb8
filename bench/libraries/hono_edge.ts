/**
 * The JWKS edge rebuilt on hono, as an adopter would write it, for the side-by-side measurement
 * against `lib/http/router.ts` + `lib/routes/jwks.ts`. Two shapes:
 * - `idiomatic`: hono's own `cors()` and `methodNotAllowed()` middleware, a request-id
 *   middleware with our id rule, one timing/metrics middleware, `notFound`/`onError` mapped
 *   through our one status table;
 * - `lean`: one middleware (metrics + request id), CORS baked into the cached response, the
 *   preflight and 405 as explicit routes: the least per-request work hono allows.
 * Both serve the same bytes and headers as ours: a cached Response cloned per request, strong
 * ETag with `If-None-Match` → 304, open CORS, `X-Request-Id`.
 * @module
 */
import { AppError } from "../../lib/core/errors.ts";
import type { JwksDocument, KeyView } from "../../lib/core/key_ring.ts";
import type { RouterMetrics } from "../../lib/http/router.ts";
import { errorResponse } from "../../lib/http/respond.ts";
import { type Context, cors, Hono, methodNotAllowed, type MiddlewareHandler } from "./deps.ts";

/** What the hono JWKS app needs: the same parts `jwksRoutes()` and `createRouter()` get. */
export interface HonoJwksDeps {
  readonly keys: { view(): KeyView };
  /** `Cache-Control: max-age`, seconds. */
  readonly maxAge: number;
  readonly metrics?: RouterMetrics;
  readonly onServed?: (notModified: boolean) => void;
  /** Told about unexpected errors (the client gets a generic 500). */
  readonly onError?: (error: unknown, requestId: string) => void;
}

/** Which shape of hono app to build. */
export type HonoStyle = "idiomatic" | "lean";

/** The environment hono passes as `c.env` when served by `Deno.serve(app.fetch)`. */
type Env = { Bindings: Deno.ServeHandlerInfo; Variables: { requestId: string } };

const PATHS = ["/.well-known/jwks.json", "/jwks"] as const;
const KNOWN: ReadonlySet<string> = new Set(PATHS);
const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const CORS_HEADERS = "Authorization, Content-Type, If-None-Match, X-Request-Id";
const ALLOW = "GET, HEAD, OPTIONS";

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}

function idOf(c: Context<Env>): string {
  const given = c.req.header("x-request-id");
  return given !== undefined && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/** Times every request and reports it under its exact path (or `unmatched`), like ours. */
function instrument(metrics: RouterMetrics | undefined, setIdHeader: boolean): MiddlewareHandler<Env> {
  return async (c, next) => {
    const started = performance.now();
    metrics?.requestStarted?.();
    const id = idOf(c);
    c.set("requestId", id);
    // hono's own requestId() middleware sets the header before next(); its charset rule differs
    // from ours ([\w=-] against [A-Za-z0-9._:@-]), so the id rule is ours here.
    if (setIdHeader) c.header("x-request-id", id);
    await next();
    const path = c.req.path;
    metrics?.request?.(
      KNOWN.has(path) ? path : "unmatched",
      c.req.method,
      c.res.status,
      (performance.now() - started) / 1000,
    );
  };
}

/** The JWKS handler: the same cache-and-clone as `lib/routes/jwks.ts`. */
function jwksHandler(deps: HonoJwksDeps, options: { cors: boolean; setId: boolean }) {
  const headersOf = (doc: JwksDocument): Record<string, string> => ({
    "cache-control": `public, max-age=${deps.maxAge}`,
    "etag": doc.etag,
    ...(options.cors ? { "access-control-allow-origin": "*", "access-control-expose-headers": "ETag" } : {}),
  });
  const built = new WeakMap<JwksDocument, Response>();
  return (c: Context<Env>): Response => {
    const doc = deps.keys.view().jwks;
    if (ifNoneMatch(c.req.header("if-none-match"), doc.etag)) {
      deps.onServed?.(true);
      const headers: Record<string, string> = headersOf(doc);
      if (options.setId) headers["x-request-id"] = c.get("requestId");
      return new Response(null, { status: 304, headers });
    }
    deps.onServed?.(false);
    let response = built.get(doc);
    if (response === undefined) {
      response = new Response(doc.body, { headers: { ...headersOf(doc), "content-type": "application/json" } });
      built.set(doc, response);
    }
    const answer = response.clone();
    if (options.setId) answer.headers.set("x-request-id", c.get("requestId"));
    return answer;
  };
}

/** Our one error table behind hono's `notFound` and `onError`. */
function errorHandlers(app: Hono<Env>, deps: HonoJwksDeps): void {
  const answering = (c: Context<Env>) => {
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    return { requestId, report: (error: unknown) => deps.onError?.(error, requestId) };
  };
  app.notFound((c) => errorResponse(answering(c), new AppError("not_found", "No such endpoint")));
  app.onError((error, c) => errorResponse(answering(c), error));
}

/** Builds the hono JWKS app in the given shape. */
export function honoJwksApp(deps: HonoJwksDeps, style: HonoStyle = "idiomatic"): Hono<Env> {
  const app = new Hono<Env>();
  if (style === "idiomatic") {
    app.use(instrument(deps.metrics, true));
    app.use(
      methodNotAllowed({
        app,
        onMethodNotAllowed: (c, methods) => {
          const allow = [...methods, "OPTIONS"].join(", ");
          const error = new AppError("method_not_allowed", `Method ${c.req.method.slice(0, 16)} is not allowed here`, {
            headers: { allow },
          });
          return errorResponse({ requestId: c.get("requestId"), report: () => {} }, error);
        },
      }),
    );
    const handler = jwksHandler(deps, { cors: false, setId: false });
    for (const path of PATHS) {
      app.use(
        path,
        cors({
          origin: "*",
          allowMethods: ALLOW.split(", "),
          allowHeaders: CORS_HEADERS.split(", "),
          exposeHeaders: ["ETag"],
          maxAge: 86400,
        }),
      );
      app.get(path, handler);
    }
  } else {
    app.use(instrument(deps.metrics, false));
    const handler = jwksHandler(deps, { cors: true, setId: true });
    for (const path of PATHS) {
      app.get(path, handler);
      app.options(path, (c) =>
        new Response(null, {
          status: 204,
          headers: {
            "allow": ALLOW,
            "x-request-id": c.get("requestId"),
            "access-control-allow-origin": "*",
            "access-control-allow-methods": ALLOW,
            "access-control-allow-headers": CORS_HEADERS,
            "access-control-max-age": "86400",
          },
        }));
      app.all(path, (c) => {
        throw new AppError("method_not_allowed", `Method ${c.req.method.slice(0, 16)} is not allowed here`, {
          headers: { allow: ALLOW },
        });
      });
    }
  }
  errorHandlers(app, deps);
  return app;
}
