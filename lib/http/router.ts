/**
 * The HTTP edge: `handle(request, deps, info) → Response`. One route table (404 for unknown
 * paths, 405 with `Allow` for known paths and wrong methods, OPTIONS and CORS preflight), one
 * error table mapping error codes to statuses, a 64 KiB body limit, and JSON error bodies
 * `{"error", "message"}` that never carry a stack, a secret, a token or a password.
 *
 * Public endpoints ignore `Authorization` headers they do not use. The JWKS path does no I/O:
 * it sends bytes serialized once per key-set change.
 * @module
 */
import { AppError, type ErrorCode, hasCode } from "../core/errors.ts";
import type { JwksDocument, KeyView } from "../core/key_ring.ts";
import type { RateDecision, RateLimiter } from "../core/rate_limit.ts";
import type { LoginEvent } from "../store/ports.ts";
import { issueToken } from "../core/tokens.ts";
import type { UserService } from "../users/users.ts";

/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Settings the HTTP edge needs, all validated beforehand. */
export interface HttpSettings {
  readonly authMode: "open" | "password";
  readonly issuer: string;
  readonly audience: string | null;
  /** Token lifetime, seconds. */
  readonly tokenTtl: number;
  /** JWKS `Cache-Control: max-age`, seconds. */
  readonly maxAge: number;
  /** Seconds a key must be published before it signs. */
  readonly lead: number;
  /** Believe the last `X-Forwarded-For` entry as the client IP. */
  readonly trustProxy: boolean;
  /** Signing algorithms this server may publish, for discovery. */
  readonly algs: readonly string[];
}

/** Counters the edge reports to; every method is optional so tests can leave them out. */
export interface HttpMetrics {
  /** A request arrived; `request()` follows when it is answered. */
  requestStarted?(): void;
  request?(route: string, method: string, status: number, seconds: number): void;
  tokenIssued?(alg: string, expired: boolean): void;
  authFailed?(reason: string): void;
  rateLimited?(route: string): void;
  jwksServed?(notModified: boolean): void;
}

/** A finished request, for the access log. */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly route: string;
  readonly status: number;
  readonly ms: number;
  readonly ip: string;
  readonly requestId: string;
}

/** What `handle` works with. */
export interface HttpDeps {
  readonly settings: HttpSettings;
  /** The current key view and time in unix seconds (a `KeyManager`). */
  readonly keys: { view(): KeyView; now(): number };
  /** Unix milliseconds now. */
  readonly clock: () => number;
  readonly users: UserService | null;
  readonly rateLimiter: RateLimiter | null;
  /**
   * Takes successful logins for `auth_logs`; must not block. While `healthy` is false (its
   * writes fail: disk full, read-only file), `POST /auth` answers 503.
   */
  readonly loginLog: { record(event: LoginEvent): void; readonly healthy?: boolean } | null;
  /** Resolves when storage answers, for `/readyz`. */
  readonly ping?: () => Promise<void>;
  /** Extra routes (admin API, metrics) merged over the built-in table. */
  readonly routes?: RouteTable;
  readonly metrics?: HttpMetrics;
  /** Called once per finished request. */
  readonly onRequest?: (record: RequestRecord) => void;
  /** Called with unexpected errors (the client gets a generic 500). */
  readonly onError?: (error: unknown, requestId: string) => void;
  /** True once a graceful stop began: new requests get 503 with `Connection: close`. */
  readonly draining?: () => boolean;
}

/** The part of `Deno.ServeHandlerInfo` the edge reads. */
export interface ConnInfo {
  readonly remoteAddr: { readonly hostname: string };
}

/** What a route handler gets. */
export interface RequestContext {
  readonly request: Request;
  readonly deps: HttpDeps;
  /** The raw query string without `?`. */
  readonly query: string;
  /** Client IP per the proxy setting. */
  readonly ip: string;
  readonly requestId: string;
}

/** A route handler. Throw an `AppError` to answer with an error. */
export type Handler = (ctx: RequestContext) => Response | Promise<Response>;

/** One path's methods. */
export interface Route {
  /** Label for metrics and logs (the path, or a pattern). */
  readonly name: string;
  readonly methods: Readonly<Partial<Record<string, Handler>>>;
  /** Open CORS (any origin) on responses and preflight. */
  readonly cors?: boolean;
}

/** Routes by exact path. */
export type RouteTable = ReadonlyMap<string, Route>;

/** HTTP status for each error code: the one table. */
const STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
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

const JSON_TYPE = "application/json";
const CORS_HEADERS = "Authorization, Content-Type, If-None-Match, X-Request-Id";

/** Builds a JSON response with the request id and any extra headers. */
export function json(
  ctx: RequestContext,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_TYPE, "x-request-id": ctx.requestId, ...headers },
  });
}

/** The `{"error","message"}` response for an error; unknown errors become a generic 500. */
export function errorResponse(ctx: RequestContext, error: unknown, headers: Record<string, string> = {}): Response {
  if (!(error instanceof AppError)) {
    ctx.deps.onError?.(error, ctx.requestId);
    return json(ctx, 500, { error: "internal", message: "Internal server error" }, headers);
  }
  if (STATUS[error.code] >= 500) ctx.deps.onError?.(error, ctx.requestId);
  const extra: Record<string, string> = { ...headers, ...error.headers };
  if (error.retryAfter !== undefined) extra["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfter)));
  if (error.code === "unauthorized") extra["www-authenticate"] ??= 'Basic realm="jwks-server", charset="UTF-8"';
  const body: Record<string, string> = { error: error.code, message: error.message };
  if (error.field !== undefined) body.field = error.field;
  return json(ctx, STATUS[error.code], body, extra);
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
const IP_TEXT = /^[0-9A-Fa-f:.]{2,45}$/;

function clientIp(request: Request, info: ConnInfo, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for");
    if (forwarded !== null) {
      // The last entry was added by the proxy in front of us; earlier ones are client claims.
      const last = forwarded.slice(forwarded.lastIndexOf(",") + 1).trim();
      if (IP_TEXT.test(last)) return last;
    }
  }
  return info.remoteAddr.hostname;
}

/**
 * Reads the body up to {@linkcode MAX_BODY_BYTES}; throws `payload_too_large` beyond it,
 * whether or not a `Content-Length` announced it, and `bad_request` when the body breaks off.
 */
export async function readBody(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new AppError("payload_too_large", `Request body must be at most ${limit} bytes`);
  }
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client closed or broke the connection mid-body: its fault, not ours.
      throw new AppError("bad_request", "Request body ended before it was complete");
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new AppError("payload_too_large", `Request body must be at most ${limit} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a JSON or form body into a flat record of fields. A form-typed body that starts with
 * `{` is read as JSON (what `curl -d '{…}'` sends). Empty body: empty record.
 */
export async function readFields(request: Request): Promise<Record<string, unknown>> {
  const bytes = await readBody(request);
  if (bytes.byteLength === 0) return {};
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AppError("bad_request", "Request body is not valid UTF-8");
  }
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const looksJson = text.trimStart().startsWith("{");
  if (
    type === JSON_TYPE || type.endsWith("+json") ||
    ((type === "" || type === "application/x-www-form-urlencoded" || type === "text/plain") && looksJson)
  ) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AppError("invalid_json", "Request body is not valid JSON");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new AppError("invalid_json", "Request body must be a JSON object");
    }
    return parsed as Record<string, unknown>;
  }
  if (type === "application/x-www-form-urlencoded" || type === "") {
    return Object.fromEntries(new URLSearchParams(text));
  }
  throw new AppError(
    "unsupported_media_type",
    "Send the body as application/json or application/x-www-form-urlencoded",
  );
}

function optionalString(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new AppError("invalid_field", `Field "${name}" must be a string`, { field: name });
  }
  return value;
}

/** Credentials from the body, or else from `Authorization: Basic`. Bearer headers are ignored. */
async function readCredentials(request: Request): Promise<{ username?: string; password?: string }> {
  const fields = await readFields(request);
  const username = optionalString(fields, "username");
  const password = optionalString(fields, "password");
  if (username !== undefined) return password === undefined ? { username } : { username, password };
  const header = request.headers.get("authorization") ?? "";
  if (/^basic\s+/i.test(header)) {
    let decoded: string;
    try {
      decoded = utf8.decode(Uint8Array.from(atob(header.replace(/^basic\s+/i, "").trim()), (c) => c.charCodeAt(0)));
    } catch {
      throw new AppError("bad_request", "Authorization: Basic header is not valid base64 UTF-8");
    }
    const colon = decoded.indexOf(":");
    if (colon >= 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return password === undefined ? {} : { password };
}

/** `?expired`, `?expired=true` → true; absent or `false` → false; anything else → 400. */
export function parseExpired(query: string): boolean {
  if (query === "") return false;
  const values = new URLSearchParams(query).getAll("expired");
  if (values.length === 0) return false;
  const distinct = new Set(values.map((value) => value.toLowerCase()));
  if (distinct.size === 1) {
    const value = [...distinct][0];
    if (value === "" || value === "true" || value === "1") return true;
    if (value === "false" || value === "0") return false;
  }
  throw new AppError("bad_request", 'Query parameter "expired" must be true or false');
}

function rateHeaders(decision: RateDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(Math.ceil(decision.resetMs / 1000)),
  };
}

async function checkRate(ctx: RequestContext, route: string): Promise<Record<string, string>> {
  const limiter = ctx.deps.rateLimiter;
  if (limiter === null) return {};
  const decision = await limiter.check(`${route}|${ctx.ip}`, ctx.deps.clock());
  const headers = rateHeaders(decision);
  if (!decision.allowed) {
    ctx.deps.metrics?.rateLimited?.(route);
    const retry = Math.max(1, Math.ceil(decision.resetMs / 1000));
    throw new AppError("rate_limited", `Too many requests; retry in ${retry} s`, { retryAfter: retry, headers });
  }
  return headers;
}

const unauthorized = () => new AppError("unauthorized", "Invalid username or password");

/** Who the token is for: the subject and, for registered users, their id. */
async function authenticate(ctx: RequestContext): Promise<{ subject: string; userId: number | null }> {
  const { deps } = ctx;
  const { username, password } = await readCredentials(ctx.request);
  const users = deps.users;
  if (deps.settings.authMode === "password") {
    if (users === null || username === undefined || password === undefined || username === "") {
      deps.metrics?.authFailed?.("missing_credentials");
      throw new AppError("unauthorized", "Send a username and password (JSON, form or Basic)");
    }
    const user = await users.authenticate(username, password, deps.clock());
    if (user === null) {
      deps.metrics?.authFailed?.("invalid_credentials");
      throw unauthorized();
    }
    return { subject: user.username, userId: user.id };
  }
  // Open mode (mock issuer): anyone gets a token, but a registered name needs its password.
  if (username === undefined || username === "") return { subject: "anonymous", userId: null };
  if (users !== null && await users.find(username) !== null) {
    const user = password === undefined ? null : await users.authenticate(username, password, deps.clock());
    if (user === null) {
      deps.metrics?.authFailed?.("invalid_credentials");
      throw unauthorized();
    }
    return { subject: user.username, userId: user.id };
  }
  return { subject: username, userId: null };
}

const noStore = { "cache-control": "no-store" };

function ifNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}

function jwksHeaders(doc: JwksDocument, maxAge: number): Record<string, string> {
  return {
    "cache-control": `public, max-age=${maxAge}`,
    "etag": doc.etag,
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag",
  };
}

/**
 * The 200 answer for each JWKS document, built once per key-set change and cloned per request:
 * a clone copies the validated header list and shares the body bytes, where a fresh `Response`
 * re-validates every header (measured: most of the JWKS path's own cost, see bench/).
 */
const jwksResponses = new WeakMap<JwksDocument, { maxAge: number; response: Response }>();

function jwksResponse(doc: JwksDocument, maxAge: number): Response {
  let cached = jwksResponses.get(doc);
  if (cached === undefined || cached.maxAge !== maxAge) {
    const headers = { ...jwksHeaders(doc, maxAge), "content-type": JSON_TYPE };
    cached = { maxAge, response: new Response(doc.body, { headers }) };
    jwksResponses.set(doc, cached);
  }
  return cached.response.clone();
}

const jwksHandler: Handler = (ctx) => {
  const { deps } = ctx;
  const doc = deps.keys.view().jwks;
  if (ifNoneMatch(ctx.request.headers.get("if-none-match"), doc.etag)) {
    deps.metrics?.jwksServed?.(true);
    const headers = { ...jwksHeaders(doc, deps.settings.maxAge), "x-request-id": ctx.requestId };
    return new Response(null, { status: 304, headers });
  }
  deps.metrics?.jwksServed?.(false);
  const response = jwksResponse(doc, deps.settings.maxAge);
  response.headers.set("x-request-id", ctx.requestId);
  return response;
};

const authHandler: Handler = async (ctx) => {
  const { deps } = ctx;
  const expired = parseExpired(ctx.query);
  const limitHeaders = await checkRate(ctx, "/auth");
  try {
    if (deps.loginLog?.healthy === false) {
      throw new AppError("unavailable", "Logins cannot be recorded right now; try again shortly", { retryAfter: 2 });
    }
    const { subject, userId } = await authenticate(ctx);
    const issued = await issueToken(deps.keys.view(), subject, {
      issuer: deps.settings.issuer,
      audience: deps.settings.audience,
      ttl: deps.settings.tokenTtl,
      now: deps.keys.now(),
      expired,
    });
    deps.metrics?.tokenIssued?.(issued.alg, expired);
    deps.loginLog?.record({ userId, ip: ctx.ip, at: deps.clock() });
    return json(ctx, 200, { token: issued.token }, { ...noStore, ...limitHeaders });
  } catch (error) {
    if (hasCode(error, "too_many_attempts")) deps.metrics?.authFailed?.("locked_out");
    return errorResponse(ctx, error, limitHeaders);
  }
};

const registerHandler: Handler = async (ctx) => {
  const { deps } = ctx;
  const limitHeaders = await checkRate(ctx, "/register");
  if (deps.users === null) throw new AppError("not_found", "Registration is not enabled");
  const fields = await readFields(ctx.request);
  const { password } = await deps.users.register(fields.username, fields.email, deps.clock());
  return json(ctx, 201, { password }, { ...noStore, ...limitHeaders });
};

const healthHandler: Handler = (ctx) => json(ctx, 200, { status: "ok" }, noStore);

const readyHandler: Handler = async (ctx) => {
  const { deps } = ctx;
  const problems: string[] = [];
  try {
    await deps.ping?.();
  } catch (error) {
    // Store errors that say what is wrong with the file carry no path and no secret.
    problems.push(hasCode(error, "unavailable") ? error.message : "database does not answer");
  }
  const view = deps.keys.view();
  if (view.active === null) problems.push("no active signing key");
  if (view.next === null) problems.push("no published next key");
  else if (view.next.activatesAt - view.next.publishedAt < deps.settings.lead) {
    problems.push("next key was published less than the lead time before it activates");
  }
  if (problems.length > 0) {
    return json(
      ctx,
      503,
      { error: "unavailable", message: `Not ready: ${problems.join("; ")}`, checks: problems },
      noStore,
    );
  }
  return json(ctx, 200, { status: "ready" }, noStore);
};

/** Discovery documents, serialized once per settings object (the issuer is known at listen time). */
const discoveryBodies = new WeakMap<HttpSettings, Uint8Array<ArrayBuffer>>();

function discoveryDocument(settings: HttpSettings): Uint8Array<ArrayBuffer> {
  let body = discoveryBodies.get(settings);
  if (body !== undefined) return body;
  const { issuer, algs } = settings;
  body = new TextEncoder().encode(JSON.stringify({
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    token_endpoint: `${issuer}/auth`,
    registration_endpoint: `${issuer}/register`,
    grant_types_supported: ["password"],
    response_types_supported: ["token"],
    subject_types_supported: ["public"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    id_token_signing_alg_values_supported: algs,
    claims_supported: ["iss", "sub", "aud", "iat", "exp", "jti"],
  }));
  discoveryBodies.set(settings, body);
  return body;
}

const discoveryHandler: Handler = (ctx) =>
  new Response(discoveryDocument(ctx.deps.settings), {
    headers: {
      "content-type": JSON_TYPE,
      "cache-control": "public, max-age=3600",
      "access-control-allow-origin": "*",
      "x-request-id": ctx.requestId,
    },
  });

/** The built-in routes. */
export const ROUTES: RouteTable = new Map<string, Route>([
  ["/.well-known/jwks.json", { name: "/.well-known/jwks.json", methods: { GET: jwksHandler }, cors: true }],
  ["/jwks", { name: "/jwks", methods: { GET: jwksHandler }, cors: true }],
  ["/auth", { name: "/auth", methods: { POST: authHandler } }],
  ["/register", { name: "/register", methods: { POST: registerHandler } }],
  ["/.well-known/openid-configuration", {
    name: "/.well-known/openid-configuration",
    methods: { GET: discoveryHandler },
    cors: true,
  }],
  ["/.well-known/oauth-authorization-server", {
    name: "/.well-known/oauth-authorization-server",
    methods: { GET: discoveryHandler },
    cors: true,
  }],
  ["/healthz", { name: "/healthz", methods: { GET: healthHandler } }],
  ["/readyz", { name: "/readyz", methods: { GET: readyHandler } }],
]);

function allowed(route: Route): string {
  const methods = Object.keys(route.methods);
  if (methods.includes("GET")) methods.push("HEAD");
  methods.push("OPTIONS");
  return methods.join(", ");
}

function dispatch(ctx: RequestContext, route: Route): Response | Promise<Response> {
  const method = ctx.request.method;
  const handler = route.methods[method] ?? (method === "HEAD" ? route.methods.GET : undefined);
  if (handler !== undefined) return handler(ctx);
  if (method === "OPTIONS") {
    const headers: Record<string, string> = { "allow": allowed(route), "x-request-id": ctx.requestId };
    if (route.cors) {
      headers["access-control-allow-origin"] = "*";
      headers["access-control-allow-methods"] = allowed(route);
      headers["access-control-allow-headers"] = CORS_HEADERS;
      headers["access-control-max-age"] = "86400";
    }
    return new Response(null, { status: 204, headers });
  }
  return errorResponse(
    ctx,
    new AppError("method_not_allowed", `Method ${method.slice(0, 16)} is not allowed here`),
    { allow: allowed(route) },
  );
}

const shuttingDown = () =>
  new AppError("unavailable", "Server is shutting down; retry on another instance", {
    retryAfter: 1,
    headers: { connection: "close" },
  });

/** Answers one request: a Response, or a promise of one for routes that wait. Never throws or rejects. */
export function handle(request: Request, deps: HttpDeps, info: ConnInfo): Response | Promise<Response> {
  const started = performance.now();
  deps.metrics?.requestStarted?.();
  const { path, query } = splitUrl(request.url);
  const given = request.headers.get("x-request-id");
  const requestId = given !== null && REQUEST_ID.test(given) ? given : crypto.randomUUID();
  const ctx: RequestContext = {
    request,
    deps,
    query,
    ip: clientIp(request, info, deps.settings.trustProxy),
    requestId,
  };
  const route = deps.routes?.get(path) ?? ROUTES.get(path);
  const finish = (answer: Response): Response => {
    let response = answer;
    if (request.method === "HEAD" && response.body !== null) {
      response = new Response(null, { status: response.status, headers: response.headers });
    }
    const ms = performance.now() - started;
    const name = route?.name ?? "unmatched";
    deps.metrics?.request?.(name, request.method, response.status, ms / 1000);
    deps.onRequest?.({ method: request.method, path, route: name, status: response.status, ms, ip: ctx.ip, requestId });
    return response;
  };
  let answer: Response | Promise<Response>;
  try {
    answer = deps.draining?.() === true
      ? errorResponse(ctx, shuttingDown())
      : route === undefined
      ? errorResponse(ctx, new AppError("not_found", "No such endpoint"))
      : dispatch(ctx, route);
  } catch (error) {
    answer = errorResponse(ctx, error);
  }
  // Synchronous routes (the JWKS) answer without a promise: Deno.serve has a faster path for a
  // plain Response, and this is the hottest endpoint.
  if (answer instanceof Response) return finish(answer);
  return answer.then(finish, (error) => finish(errorResponse(ctx, error)));
}
