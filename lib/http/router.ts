/**
 * The edge core, in hono's shape: routes by exact path, `(next) => handler` middleware, and one
 * `createRouter()` that answers every request — 404 for an unknown path, 405 with `Allow` for a
 * wrong method, OPTIONS and CORS preflight, HEAD from GET, 503 while draining — and turns
 * whatever a handler throws into the one error shape of `respond.ts`. Request ids, the client
 * IP, and the metrics and access-log hooks live here; the endpoints live in `lib/routes/`.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { errorResponse } from "./respond.ts";

/** What a handler gets for one request. */
export interface RequestContext {
  readonly request: Request;
  /** The path, without query or fragment. */
  readonly path: string;
  /** The raw query string without `?`. */
  readonly query: string;
  /** The client IP, per the proxy policy. */
  readonly ip: string;
  readonly requestId: string;
  /** Reports an unexpected error (logged with the request id; the client sees a generic 500). */
  report(error: unknown): void;
}

/** Answers a request. Throw an `AppError` to answer with an error. */
export type Handler = (ctx: RequestContext) => Response | Promise<Response>;

/** Wraps a handler: runs before it, after it, or instead of it. */
export type Middleware = (next: Handler) => Handler;

/** One path and its methods. A route module's factory returns a list of these. */
export interface Route {
  readonly path: string;
  readonly methods: Readonly<Partial<Record<string, Handler>>>;
  /** Open CORS (any origin) on responses and preflight. */
  readonly cors?: boolean;
  /** Middleware around everything this path answers, preflight and 405 included. */
  readonly use?: readonly Middleware[];
}

/** Counters the router reports to; optional so tests can leave them out. */
export interface RouterMetrics {
  /** A request arrived; `request()` follows when it is answered. */
  requestStarted?(): void;
  request?(route: string, method: string, status: number, seconds: number): void;
}

/** A finished request, for the access log. */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** The matched route's path, or `unmatched`. */
  readonly route: string;
  readonly status: number;
  readonly ms: number;
  readonly ip: string;
  readonly requestId: string;
}

/** The part of `Deno.ServeHandlerInfo` the edge reads. */
export interface ConnInfo {
  readonly remoteAddr: { readonly hostname: string };
}

/** Answers one request: a Response, or a promise of one for routes that wait. Never throws. */
export type Serve = (request: Request, info: ConnInfo) => Response | Promise<Response>;

/** Options of {@linkcode createRouter}. */
export interface RouterOptions {
  /** The client IP of a request; the socket peer by default. */
  clientIp?: (request: Request, info: ConnInfo) => string;
  metrics?: RouterMetrics;
  /** Called once per finished request. */
  onRequest?: (record: RequestRecord) => void;
  /** Called with unexpected errors (the client gets a generic 500). */
  onError?: (error: unknown, requestId: string) => void;
  /** True once a graceful stop began: new requests get 503 with `Connection: close`. */
  draining?: () => boolean;
}

/** Applies `middleware` to `handler`, the first one outermost. */
export function use(handler: Handler, ...middleware: readonly Middleware[]): Handler {
  return middleware.reduceRight((next, wrap) => wrap(next), handler);
}

/** Splits a request URL into path and query without the cost of `new URL`. */
export function splitUrl(url: string): { path: string; query: string } {
  const scheme = url.indexOf("://");
  const slash = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  if (slash < 0) return { path: "/", query: "" };
  const mark = url.indexOf("?", slash);
  const hash = url.indexOf("#", slash);
  const end = hash < 0 ? url.length : hash;
  return mark < 0 || mark > end
    ? { path: url.slice(slash, end), query: "" }
    : { path: url.slice(slash, mark), query: url.slice(mark + 1, end) };
}

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const CORS_HEADERS = "Authorization, Content-Type, If-None-Match, X-Request-Id";

function allowed(route: Route): string {
  const methods = Object.keys(route.methods);
  if (methods.includes("GET")) methods.push("HEAD");
  methods.push("OPTIONS");
  return methods.join(", ");
}

/** The handler of one path: method dispatch, preflight and 405, wrapped in the route's middleware. */
function pathHandler(route: Route): Handler {
  const allow = allowed(route);
  const dispatch: Handler = (ctx) => {
    const method = ctx.request.method;
    const handler = route.methods[method] ?? (method === "HEAD" ? route.methods.GET : undefined);
    if (handler !== undefined) return handler(ctx);
    if (method === "OPTIONS") {
      const headers: Record<string, string> = { "allow": allow, "x-request-id": ctx.requestId };
      if (route.cors) {
        headers["access-control-allow-origin"] = "*";
        headers["access-control-allow-methods"] = allow;
        headers["access-control-allow-headers"] = CORS_HEADERS;
        headers["access-control-max-age"] = "86400";
      }
      return new Response(null, { status: 204, headers });
    }
    throw new AppError("method_not_allowed", `Method ${method.slice(0, 16)} is not allowed here`, {
      headers: { allow },
    });
  };
  return use(dispatch, ...(route.use ?? []));
}

const shuttingDown = () =>
  new AppError("unavailable", "Server is shutting down; retry on another instance", {
    retryAfter: 1,
    headers: { connection: "close" },
  });

/**
 * Builds the request handler for `routes`. Throws when two routes claim the same path, so two
 * route modules can never silently shadow each other.
 */
export function createRouter(routes: readonly Route[], options: RouterOptions = {}): Serve {
  const table = new Map<string, Handler>();
  for (const route of routes) {
    if (table.has(route.path)) throw new Error(`Two routes claim the path "${route.path}"`);
    table.set(route.path, pathHandler(route));
  }
  const { metrics, onRequest, onError, draining } = options;
  const clientIp = options.clientIp ?? ((_request, info) => info.remoteAddr.hostname);
  return (request, info) => {
    const started = performance.now();
    metrics?.requestStarted?.();
    const { path, query } = splitUrl(request.url);
    const given = request.headers.get("x-request-id");
    const requestId = given !== null && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    const ip = clientIp(request, info);
    const ctx: RequestContext = { request, path, query, ip, requestId, report: (error) => onError?.(error, requestId) };
    const handler = table.get(path);
    const name = handler === undefined ? "unmatched" : path;
    const finish = (answer: Response): Response => {
      let response = answer;
      if (request.method === "HEAD" && response.body !== null) {
        response = new Response(null, { status: response.status, headers: response.headers });
      }
      const ms = performance.now() - started;
      metrics?.request?.(name, request.method, response.status, ms / 1000);
      onRequest?.({ method: request.method, path, route: name, status: response.status, ms, ip, requestId });
      return response;
    };
    let answer: Response | Promise<Response>;
    try {
      answer = draining?.() === true
        ? errorResponse(ctx, shuttingDown())
        : handler === undefined
        ? errorResponse(ctx, new AppError("not_found", "No such endpoint"))
        : handler(ctx);
    } catch (error) {
      answer = errorResponse(ctx, error);
    }
    // Synchronous routes (the JWKS) answer without a promise: Deno.serve has a faster path for a
    // plain Response, and this is the hottest endpoint.
    if (answer instanceof Response) return finish(answer);
    return answer.then(finish, (error) => finish(errorResponse(ctx, error)));
  };
}
