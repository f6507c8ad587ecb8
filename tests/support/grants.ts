/**
 * Fixtures for the grant modules' own tests: the deps a grant runs on, built from a test app
 * exactly as `app_routes.ts` builds them (its key manager, its OAuth store, its login policy and
 * auth log), a form from a query string, and the clients a request can come from.
 * @module
 */
import assert from "node:assert/strict";
import type { AuthenticatedClient } from "../../lib/oauth/client_auth.ts";
import type { OAuthError } from "../../lib/oauth/errors.ts";
import type { Grant, GrantDeps, GrantRequest } from "../../lib/oauth/grant.ts";
import { parseForm } from "../../lib/oauth/params.ts";
import type { ClientRecord } from "../../lib/store/oauth_ports.ts";
import { loginPolicy } from "../../lib/users/login.ts";
import type { TestApp } from "./helpers.ts";
import { clientRecord } from "./store_contract.ts";

/** The deps of the grants, from `app`, as the app wires them. */
export function grantDeps(app: TestApp, overrides: Partial<GrantDeps> = {}): GrantDeps {
  return {
    keys: app.keys,
    store: app.store.oauth,
    issuer: app.config.issuer,
    tokenTtl: app.config.policy.tokenTtl,
    refreshTtl: app.config.refreshTokenTtl,
    expiredBy: app.config.policy.clockSkew + 60,
    login: loginPolicy({ mode: app.config.authMode, users: app.users }),
    loginLog: app.loginLog,
    audience: app.config.audience,
    clock: app.clock,
    ...overrides,
  };
}

/** A token request with the form `query` (`grant_type=...&scope=...`) from `client`. */
export function grantRequest(
  query: string,
  client: AuthenticatedClient,
  overrides: Partial<GrantRequest> = {},
): GrantRequest {
  return { form: parseForm(query), client, mock: null, expired: false, ip: "127.0.0.1", ...overrides };
}

/** A registered confidential client (it has a secret hash) that authenticated with Basic. */
export function confidential(id: string, overrides: Partial<ClientRecord> = {}): AuthenticatedClient {
  return {
    id,
    method: "client_secret_basic",
    record: clientRecord(id, {
      secretHash: new Uint8Array(32),
      grantTypes: ["client_credentials", "password", "refresh_token"],
      scopes: ["read", "write", "openid", "offline_access"],
      audiences: ["https://api.example"],
      ...overrides,
    }),
  };
}

/** A registered public client (no secret). */
export function publicClient(id: string, overrides: Partial<ClientRecord> = {}): AuthenticatedClient {
  return { ...confidential(id, { secretHash: null, ...overrides }), method: "none" };
}

/** Asserts that `grant` refuses the form `query` from `client` with the OAuth error `code`. */
export async function assertRefused(
  grant: Grant,
  request: { query: string; client: AuthenticatedClient; deps: GrantDeps },
  code: string,
): Promise<void> {
  await assert.rejects(
    grant.run(grantRequest(request.query, request.client), request.deps),
    (error: OAuthError) => error.oauthCode === code,
    `${request.query}: ${code}`,
  );
}
