/**
 * OAuth fixtures: an openid-client configuration for a served app (discovery from its issuer,
 * plain http allowed), raw form posts for the cases a client library would not send, and the
 * error a library call rejected with.
 * @module
 */
import assert from "node:assert/strict";
import * as oidc from "openid-client";
import type { TestApp } from "./helpers.ts";

/** An openid-client configuration for `clientId` at the issuer `url`, found by discovery. */
export function clientConfig(
  url: string,
  clientId: string,
  auth: oidc.ClientAuth = oidc.None(),
): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(url), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

/** A registered confidential client and its openid-client configuration (Basic auth by default). */
export async function confidentialClient(
  url: string,
  app: TestApp,
  registration: { grantTypes?: string[]; scopes?: string[]; audiences?: string[] } = {},
  method: "basic" | "post" = "basic",
): Promise<{ id: string; secret: string; config: oidc.Configuration }> {
  const { client, secret } = await app.clients.register({ name: "test client", ...registration }, 0);
  const auth = method === "basic" ? oidc.ClientSecretBasic(secret!) : oidc.ClientSecretPost(secret!);
  return { id: client.id, secret: secret!, config: await clientConfig(url, client.id, auth) };
}

/**
 * A public client (no secret, `offline_access` allowed) registered as `name`, and what its
 * password grant for alice (PASSWORD_MODE's user) returned, through openid-client.
 */
export async function publicClientLogin(url: string, app: TestApp, name: string) {
  const { client } = await app.clients.register({ name, public: true, scopes: ["offline_access"] }, 0);
  const config = await clientConfig(url, client.id);
  const issued = await oidc.genericGrantRequest(config, "password", {
    username: "alice",
    password: "alice-password-1",
    scope: "offline_access",
  });
  return { id: client.id, config, issued };
}

/** `Authorization: Basic` for a client id and secret, form-urlencoded as RFC 6749 §2.3.1 says. */
export function basic(id: string, secret: string): Record<string, string> {
  const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, "+");
  return { authorization: `Basic ${btoa(`${encode(id)}:${encode(secret)}`)}` };
}

/** A form POST to `path`. */
export function formPost(
  app: Pick<TestApp, "fetch">,
  path: string,
  params: Record<string, string | string[]>,
  headers: Record<string, string> = {},
  query = "",
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  }
  return app.fetch(`${path}${query}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: body.toString(),
  });
}

/** The OAuth error of a response: status, `error`, and the body, which must be §5.2 JSON. */
export async function oauthError(
  response: Response,
): Promise<{ status: number; error: string; body: Record<string, unknown> }> {
  const body = await response.json();
  assert.equal(typeof body.error, "string", "an OAuth error names its code");
  assert.equal(typeof body.error_description, "string");
  assert.equal("message" in body, false, "never our own {error, message} shape");
  assert.equal(response.headers.get("cache-control"), "no-store");
  return { status: response.status, error: body.error, body };
}

/** The `error` an openid-client call rejected with (its RFC 6749 §5.2 code). */
export async function rejectedWith(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError) return error.error;
    throw error;
  }
  assert.fail("the call should have failed");
}

/** A password-mode server with one user, alice, and no rate limit: the OAuth route tests' default. */
export const PASSWORD_MODE = Object.freeze({
  auth: "password",
  "seed-user": ["alice:alice-password-1"],
  "rate-limit": "off",
});
