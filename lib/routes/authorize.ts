/**
 * Browser sign-in (RFC 6749 §4.1, OIDC Core §3.1): `GET /authorize` checks the request
 * (`lib/oauth/authorize.ts`) and shows the login page, or the error page when the client or
 * redirect URI is wrong, or redirects an error back with `state` and `iss` (RFC 9207);
 * `POST /authorize/login` takes the form — sealed request and CSRF token checked first, then
 * the login policy of `/auth` (backoff, `auth_logs`) behind the same kind of rate limit — and
 * redirects with a one-time code. Pages carry a strict CSP, framing denied and `no-store`.
 * @module
 */
import { AppError, hasCode } from "../core/errors.ts";
import { STATUS } from "../http/respond.ts";
import { type Handler, type Middleware, type RequestContext, type Route, use } from "../http/router.ts";
import {
  type AuthorizeErrorCode,
  checkAuthorizeRequest,
  isLoopbackUri,
  type PendingAuthorization,
  redirectWith,
} from "../oauth/authorize.ts";
import { CODE_TTL, codeHash, newCode } from "../oauth/codes.ts";
import { OAuthError } from "../oauth/errors.ts";
import { ID_TOKEN_CLAIMS } from "../oauth/id_tokens.ts";
import { parseMockControls } from "../oauth/mock.ts";
import { readForm } from "../oauth/params.ts";
import { CSRF_COOKIE, type FormSeal, isCookieValue, newCookieValue, PENDING_TTL } from "../oauth/pending.ts";
import type { ClientRecord, OAuthStore } from "../store/oauth_ports.ts";
import type { LoginEvent } from "../store/ports.ts";
import type { LoginPolicy } from "../users/login.ts";
import { errorPage, loginPage } from "../signin/page.ts";
import { SIGNIN_CSS } from "../signin/style.ts";
import { asset, respond } from "./console.ts";

/** What the sign-in routes need. */
export interface AuthorizeDeps {
  readonly issuer: string;
  readonly login: LoginPolicy;
  readonly clients: { find(id: string): Promise<ClientRecord | null> };
  readonly store: Pick<OAuthStore, "createCode">;
  /** Now in unix seconds (a `KeyManager`). */
  readonly keys: { now(): number };
  /** Unix milliseconds now (backoff, `auth_logs`). */
  readonly clock: () => number;
  /** `auth_logs`, as `/auth` writes it; `healthy` false refuses sign-ins (503). */
  readonly loginLog: { record(event: LoginEvent): void; readonly healthy?: boolean } | null;
  /** Seals the pending request and makes CSRF tokens (keyed from the master secret). */
  readonly seal: FormSeal;
  /** The rate limit of `POST /authorize/login`, run before the body is read. */
  readonly guard?: Middleware;
}

/** The CSP of the sign-in pages: no script at all; the form may post here and go back to `origin`. */
export function signinCsp(origin: string | null): string {
  return "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; " +
    `form-action 'self'${origin === null ? "" : ` ${origin}`}`;
}

const HTML = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", pragma: "no-cache" };
const MAX_COOKIE_HEADER = 8192;

function cookieOf(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (header === null || header.length > MAX_COOKIE_HEADER) return null;
  for (const part of header.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return null;
}

function originOf(uri: string): string {
  return new URL(uri).origin;
}

/** The sign-in routes. */
export function authorizeRoutes(deps: AuthorizeDeps): Route[] {
  const css = asset("/authorize/signin.css", "text/css; charset=utf-8", SIGNIN_CSS);
  const secure = deps.issuer.startsWith("https:");
  const mode = deps.login.mode;

  const page = (ctx: RequestContext, status: number, message: string, headers: Record<string, string> = {}) =>
    respond(ctx, status, errorPage({ issuer: deps.issuer, message, css: css.url }), {
      ...HTML,
      ...headers,
      "content-security-policy": signinCsp(null),
    });

  const redirect = (ctx: RequestContext, location: string) =>
    respond(ctx, 302, null, { location, "cache-control": "no-store", pragma: "no-cache" });

  const redirectError = (
    ctx: RequestContext,
    request: Pick<PendingAuthorization, "redirectUri" | "state">,
    error: AuthorizeErrorCode,
    description: string,
  ) =>
    redirect(
      ctx,
      redirectWith(request.redirectUri, {
        error,
        error_description: description,
        state: request.state,
        iss: deps.issuer,
      }),
    );

  /** The login page for `request`, sealed and CSRF-bound to `cookie`. */
  const login = (
    ctx: RequestContext,
    status: number,
    form: { request: PendingAuthorization; sealed: string; cookie: string; client: ClientRecord | null },
    extra: { username?: string; claims?: string; error?: string; headers?: Record<string, string> } = {},
  ) => {
    const body = loginPage({
      issuer: deps.issuer,
      authMode: mode,
      clientId: form.request.clientId,
      clientName: form.client?.name ?? null,
      redirectOrigin: originOf(form.request.redirectUri),
      scope: form.request.scope,
      request: form.sealed,
      csrf: deps.seal.csrfToken(form.cookie, form.sealed),
      css: css.url,
      ...(extra.username === undefined ? {} : { username: extra.username }),
      ...(extra.claims === undefined ? {} : { claims: extra.claims }),
      error: extra.error ?? null,
    });
    return respond(ctx, status, body, {
      ...HTML,
      ...extra.headers,
      "content-security-policy": signinCsp(originOf(form.request.redirectUri)),
    });
  };

  const authorize: Handler = async (ctx) => {
    const outcome = await checkAuthorizeRequest(new URLSearchParams(ctx.query), { mode, clients: deps.clients });
    if (outcome.kind === "page") return page(ctx, 400, outcome.message);
    if (outcome.kind === "redirect") return redirectError(ctx, outcome, outcome.error, outcome.description);
    const known = cookieOf(ctx.request, CSRF_COOKIE);
    const cookie = known !== null && isCookieValue(known) ? known : newCookieValue();
    const sealed = deps.seal.seal(outcome.request, deps.keys.now());
    const setCookie = `${CSRF_COOKIE}=${cookie}; Path=/authorize; Max-Age=${PENDING_TTL}; HttpOnly; SameSite=Strict` +
      (secure ? "; Secure" : "");
    const client = await deps.clients.find(outcome.request.clientId);
    return login(ctx, 200, { request: outcome.request, sealed, cookie, client }, {
      headers: { "set-cookie": setCookie },
    });
  };

  const submit: Handler = async (ctx) => {
    const form = await readForm(ctx.request);
    const sealed = form.get("request") ?? "";
    const request = deps.seal.open(sealed, deps.keys.now());
    if (request === null) {
      return page(ctx, 400, "This sign-in form has expired or was altered; start again from the application");
    }
    const cookie = cookieOf(ctx.request, CSRF_COOKIE);
    const csrf = form.get("csrf");
    if (cookie === null || csrf === undefined || !deps.seal.csrfMatches(cookie, sealed, csrf)) {
      return page(ctx, 403, "This sign-in form could not be verified (are cookies blocked?); start again");
    }
    // The client may have been removed or changed since the page was shown.
    const client = await deps.clients.find(request.clientId);
    const allowed = client === null
      ? mode === "open" && isLoopbackUri(request.redirectUri)
      : client.redirectUris.includes(request.redirectUri);
    if (!allowed) return page(ctx, 400, "This client or its redirect URI is no longer registered");
    if (form.get("action") === "cancel") return redirectError(ctx, request, "access_denied", "The user cancelled");

    const username = form.get("username");
    const password = form.get("password");
    const claimsText = mode === "open" ? form.get("claims") : undefined;
    const state = { request, sealed, cookie, client };
    const again = (status: number, error: string, headers: Record<string, string> = {}) =>
      login(ctx, status, state, {
        ...(username === undefined ? {} : { username }),
        ...(claimsText === undefined ? {} : { claims: claimsText }),
        error,
        headers,
      });
    if (deps.loginLog?.healthy === false) {
      return again(503, "Sign-ins cannot be recorded right now; try again shortly", { "retry-after": "2" });
    }
    if (mode === "password" && (username === undefined || password === undefined)) {
      return again(400, "Enter your username and password");
    }
    let claims: Record<string, unknown> = {};
    try {
      claims = { ...parseMockControls({ claims: claimsText }, { maxTtl: 1, now: 0 }).claims };
    } catch (error) {
      if (error instanceof OAuthError) return again(400, error.message.replace('Parameter "claims"', "Extra claims"));
      throw error;
    }
    const reserved = Object.keys(claims).find((name) => ID_TOKEN_CLAIMS.includes(name));
    if (reserved !== undefined) return again(400, `Claim "${reserved}" is set by the server and cannot be given`);

    let subject;
    try {
      const credentials = {
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
      };
      subject = await deps.login.authenticate(credentials, deps.clock(), { ip: ctx.ip });
    } catch (error) {
      if (hasCode(error, "unauthorized")) return again(401, "Invalid username or password");
      if (hasCode(error, "too_many_attempts")) {
        const wait = Math.max(1, Math.ceil(error.retryAfter ?? 1));
        return again(429, `Too many failed sign-ins; try again in ${wait} s`, { "retry-after": String(wait) });
      }
      if (hasCode(error, "invalid_field")) return again(400, error.message);
      if (error instanceof AppError && STATUS[error.code] === 503) {
        return again(503, "The server is busy; try again shortly", { "retry-after": "1" });
      }
      throw error;
    }
    const now = deps.keys.now();
    const code = newCode();
    await deps.store.createCode({
      hash: codeHash(code),
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scope: request.scope.join(" "),
      nonce: request.nonce,
      subject: subject.subject,
      userId: subject.userId,
      claims,
      authTime: now,
      createdAt: now,
      expiresAt: now + CODE_TTL,
    });
    deps.loginLog?.record({ userId: subject.userId, ip: ctx.ip, at: deps.clock() });
    return redirect(ctx, redirectWith(request.redirectUri, { code, state: request.state, iss: deps.issuer }));
  };

  /** Whatever is thrown (a body too large, the rate limit, a failure) becomes the error page. */
  const htmlErrors: Middleware = (next) => async (ctx) => {
    try {
      return await next(ctx);
    } catch (error) {
      if (!(error instanceof AppError)) {
        ctx.report(error);
        return page(ctx, 500, "Something went wrong on the server; try again");
      }
      const status = error instanceof OAuthError ? error.status : STATUS[error.code];
      if (status >= 500) ctx.report(error);
      const headers: Record<string, string> = { ...error.headers };
      if (error.retryAfter !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfter)));
      return page(ctx, status, error.message, headers);
    }
  };

  return [
    { path: "/authorize", methods: { GET: use(authorize, htmlErrors) }, use: [htmlErrors] },
    {
      path: "/authorize/login",
      methods: { POST: use(submit, htmlErrors, ...(deps.guard ? [deps.guard] : []), htmlErrors) },
      use: [htmlErrors],
    },
    { path: "/authorize/signin.css", methods: { GET: css.handler } },
  ];
}
