/**
 * Sign-in fixtures without a browser: the hidden fields and cookie of a login page, a form
 * POST of it, and a whole code + PKCE sign-in through `GET /authorize` and `POST
 * /authorize/login` against a `TestApp` (or any fetch), for the route and grant tests.
 * @module
 */
import assert from "node:assert/strict";
import { s256 } from "../../lib/oauth/codes.ts";

/** A fetch-like function: `app.fetch` or a served URL's `fetch`. */
export type Fetch = (path: string, init?: RequestInit & { ip?: string }) => Promise<Response>;

/** A PKCE verifier and its S256 challenge. */
export function pkce(seed = "a"): { verifier: string; challenge: string } {
  const verifier = seed.repeat(43).slice(0, 43) + "-verifier-for-tests";
  return { verifier, challenge: s256(verifier) };
}

/** The query of an authorization request. */
export function authorizeQuery(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  return `?${query}`;
}

/** What a login page carries: the sealed request, the CSRF token and the cookie it is bound to. */
export interface LoginForm {
  readonly request: string;
  readonly csrf: string;
  readonly cookie: string;
  readonly html: string;
}

function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(match, `the login page has a hidden "${name}" field`);
  return match[1]!.replaceAll("&quot;", '"').replaceAll("&amp;", "&");
}

/** Opens the login page of `query` (which must show it) and reads its form. */
export async function openLogin(fetch: Fetch, query: string, init: { ip?: string } = {}): Promise<LoginForm> {
  const response = await fetch(`/authorize${query}`, init);
  const html = await response.text();
  assert.equal(response.status, 200, html);
  const setCookie = response.headers.get("set-cookie") ?? "";
  const cookie = /^jwks_signin=([^;]+)/.exec(setCookie)?.[1];
  assert.ok(cookie, "the login page sets the CSRF cookie");
  return { request: hidden(html, "request"), csrf: hidden(html, "csrf"), cookie, html };
}

/** Posts the login form with `fields` (the hidden ones from `form` unless overridden). */
export function postLogin(
  fetch: Fetch,
  form: Pick<LoginForm, "request" | "csrf" | "cookie">,
  fields: Record<string, string | undefined>,
  init: { ip?: string; cookie?: string | null } = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries({ request: form.request, csrf: form.csrf, ...fields })) {
    if (value !== undefined) body.set(name, value);
  }
  const cookie = init.cookie === undefined ? form.cookie : init.cookie;
  return fetch("/authorize/login", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(cookie === null ? {} : { cookie: `jwks_signin=${cookie}` }),
    },
    body: body.toString(),
    redirect: "manual",
    ...(init.ip === undefined ? {} : { ip: init.ip }),
  });
}

/** The query parameters of a redirect response (302 with a Location). */
export function redirectParams(response: Response): URLSearchParams {
  assert.equal(response.status, 302, "a redirect");
  return new URL(response.headers.get("location")!).searchParams;
}

/** A whole sign-in: opens the login page of `params`, signs in with `fields`, returns the code. */
export async function signIn(
  fetch: Fetch,
  params: Record<string, string | undefined>,
  fields: Record<string, string | undefined>,
): Promise<string> {
  const form = await openLogin(fetch, authorizeQuery({ response_type: "code", ...params }));
  const response = await postLogin(fetch, form, fields);
  const code = redirectParams(response).get("code");
  assert.ok(code, "the redirect carries a code");
  return code;
}
