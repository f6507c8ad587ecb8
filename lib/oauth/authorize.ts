/**
 * The authorization request of `GET /authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2, RFC 7636,
 * RFC 9207), checked in the order the RFCs require: first the client and its exact redirect
 * URI — a problem there is shown to the user and never redirected (§4.1.2.1) — then everything
 * else, whose problems go back to the client as an error redirect. No HTML and no sign-in here:
 * the outcome says what the route should do.
 * @module
 */
import type { ClientRecord } from "../store/oauth_ports.ts";
import type { AuthMode } from "../users/login.ts";
import type { AuthenticatedClient } from "./client_auth.ts";
import { isS256Challenge } from "./codes.ts";
import { OAuthError } from "./errors.ts";
import { parseScope } from "./params.ts";
import { grantedScope } from "./policy.ts";

/** The error codes of an authorization error redirect (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6). */
export type AuthorizeErrorCode =
  | "invalid_request"
  | "unauthorized_client"
  | "access_denied"
  | "unsupported_response_type"
  | "invalid_scope"
  | "server_error"
  | "temporarily_unavailable"
  | "login_required"
  | "request_not_supported"
  | "request_uri_not_supported";

/** A checked authorization request, waiting for the user to sign in. */
export interface PendingAuthorization {
  readonly clientId: string;
  readonly redirectUri: string;
  /** The granted scope. */
  readonly scope: readonly string[];
  readonly state: string | null;
  readonly nonce: string | null;
  /** The S256 challenge, or null (confidential clients may leave PKCE out). */
  readonly codeChallenge: string | null;
}

/** What the route does with a request. */
export type AuthorizeOutcome =
  /** Show an error page: the client or redirect URI cannot be trusted with a redirect. */
  | { readonly kind: "page"; readonly message: string }
  /** Redirect to the client with an error. */
  | {
    readonly kind: "redirect";
    readonly redirectUri: string;
    readonly error: AuthorizeErrorCode;
    readonly description: string;
    readonly state: string | null;
  }
  /** Show the login page; `client` is the registration (null: an ad-hoc client of open mode). */
  | { readonly kind: "login"; readonly request: PendingAuthorization; readonly client: ClientRecord | null };

/** Lengths this endpoint accepts. */
export const MAX_STATE = 1024;
export const MAX_NONCE = 512;
const MAX_CLIENT_ID = 256;
const MAX_REDIRECT_URI = 2048;

/** What checking needs. */
export interface AuthorizeCheckDeps {
  readonly mode: AuthMode;
  readonly clients: { find(id: string): Promise<ClientRecord | null> };
}

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** True for an http(s) URI on a loopback host without a fragment: what an ad-hoc client may use. */
export function isLoopbackUri(value: string): boolean {
  if (!URL.canParse(value) || value.includes("#")) return false;
  const url = new URL(value);
  return (url.protocol === "http:" || url.protocol === "https:") && LOOPBACK.has(url.hostname);
}

/** Every value of `params` at most once (RFC 6749 §3.1), or the name that repeats. */
function repeated(params: URLSearchParams): string | null {
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return null;
}

/** Checks the authorization request in `params`. */
export async function checkAuthorizeRequest(
  params: URLSearchParams,
  deps: AuthorizeCheckDeps,
): Promise<AuthorizeOutcome> {
  const page = (message: string): AuthorizeOutcome => ({ kind: "page", message });
  const get = (name: string) => params.get(name) || null;
  const twice = repeated(params);
  if (twice === "client_id" || twice === "redirect_uri") return page(`Parameter "${twice}" is repeated`);
  const clientId = get("client_id");
  if (clientId === null) return page('The request names no client ("client_id" is missing)');
  if (clientId.length > MAX_CLIENT_ID) return page("The client_id is too long");
  const redirectUri = get("redirect_uri");
  if (redirectUri === null) return page('The request has no "redirect_uri"');
  if (redirectUri.length > MAX_REDIRECT_URI) return page("The redirect_uri is too long");
  const record = await deps.clients.find(clientId);
  if (record === null) {
    // Open mode's ad-hoc clients have no registration to check a redirect against: only loopback.
    if (deps.mode !== "open") return page("This client is not registered with this server");
    if (!isLoopbackUri(redirectUri)) {
      return page("An unregistered client may only redirect to a loopback address (http://127.0.0.1:PORT/...)");
    }
  } else if (!record.redirectUris.includes(redirectUri)) {
    return page("The redirect_uri is not one registered for this client (they are compared exactly)");
  }

  const stateValue = get("state");
  const state = stateValue !== null && stateValue.length <= MAX_STATE ? stateValue : null;
  const fail = (error: AuthorizeErrorCode, description: string): AuthorizeOutcome => ({
    kind: "redirect",
    redirectUri,
    error,
    description,
    state,
  });
  if (stateValue !== null && state === null) return fail("invalid_request", `state is longer than ${MAX_STATE}`);
  if (twice !== null) return fail("invalid_request", `Parameter "${twice.slice(0, 40)}" is repeated`);
  if (get("request") !== null) return fail("request_not_supported", "Request objects are not supported");
  if (get("request_uri") !== null) return fail("request_uri_not_supported", "request_uri is not supported");
  const responseType = get("response_type");
  if (responseType === null) return fail("invalid_request", "response_type is required");
  if (responseType !== "code") return fail("unsupported_response_type", 'Only response_type "code" is supported');
  const responseMode = get("response_mode");
  if (responseMode !== null && responseMode !== "query") {
    return fail("invalid_request", 'Only response_mode "query" is supported');
  }
  if (record !== null && !record.grantTypes.includes("authorization_code")) {
    return fail("unauthorized_client", "Client is not registered for authorization_code");
  }
  const client: AuthenticatedClient = { id: clientId, record, method: "none" };
  let scope: string[];
  try {
    scope = grantedScope(client, parseScope(get("scope") ?? undefined));
  } catch (error) {
    if (error instanceof OAuthError) return fail("invalid_scope", error.message);
    throw error;
  }
  const challenge = get("code_challenge");
  const method = get("code_challenge_method");
  if (challenge === null) {
    if (method !== null) return fail("invalid_request", "code_challenge_method without a code_challenge");
    if (record === null || record.secretHash === null) {
      return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256");
    }
  } else {
    if (method !== "S256") {
      return fail("invalid_request", 'code_challenge_method must be "S256" ("plain" is not accepted)');
    }
    if (!isS256Challenge(challenge)) return fail("invalid_request", "code_challenge must be 43 base64url characters");
  }
  const nonce = get("nonce");
  if (nonce !== null && nonce.length > MAX_NONCE) return fail("invalid_request", `nonce is longer than ${MAX_NONCE}`);
  // There is no session to reuse: every sign-in shows the login page.
  if ((get("prompt") ?? "").split(" ").includes("none")) {
    return fail("login_required", "This server has no sessions; the user must sign in");
  }
  return {
    kind: "login",
    request: { clientId, redirectUri, scope, state, nonce, codeChallenge: challenge },
    client: record,
  };
}

/** The redirect URI with `params` added to its query (RFC 6749 §4.1.2); null values are left out. */
export function redirectWith(redirectUri: string, params: Readonly<Record<string, string | null>>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== null) url.searchParams.append(name, value);
  return url.href;
}
