/**
 * `POST /token` (RFC 6749 §3.2): form-encoded requests, client authentication, and dispatch to
 * the grant modules of `lib/oauth/grants.ts`. Success is the §5.1 body with `Cache-Control:
 * no-store` and `Pragma: no-cache`; every failure is §5.2 `{"error", "error_description"}`.
 * In open mode the mock-issuer controls apply and any `client_id` works without a secret. The
 * rate limit runs before the body is read, as on `/auth`.
 * @module
 */
import { json } from "../http/respond.ts";
import { type Middleware, type Route, use } from "../http/router.ts";
import { authenticateClient } from "../oauth/client_auth.ts";
import type { ClientService } from "../oauth/clients.ts";
import { OAuthError, oauthErrors } from "../oauth/errors.ts";
import type { GrantDeps } from "../oauth/grant.ts";
import { GRANTS } from "../oauth/grants.ts";
import { GRANT_TYPES, type GrantType } from "../oauth/grant_types.ts";
import { type MockControls, parseMockControls } from "../oauth/mock.ts";
import { type OAuthForm, readForm, required } from "../oauth/params.ts";
import { parseExpired } from "./auth.ts";

/** What `POST /token` needs. */
export interface TokenDeps extends GrantDeps {
  readonly clients: Pick<ClientService, "find">;
  /** The longest `ttl` open mode's controls accept, seconds. */
  readonly maxTokenTtl: number;
  /** Runs before the body is read (the rate limit). */
  readonly guard?: Middleware;
}

/** Response headers of every token answer (RFC 6749 §5.1). */
export const TOKEN_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "cache-control": "no-store",
  pragma: "no-cache",
});

/** The form as a record for the mock controls: repeatable `aud` as a list. */
function mockFields(form: OAuthForm): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const name of ["scope", "ttl", "nbf", "iss", "claims"]) fields[name] = form.get(name);
  fields.aud = form.all("aud");
  return fields;
}

/** The `POST /token` route. */
export function tokenRoutes(deps: TokenDeps): Route[] {
  const post = use(
    async (ctx) => {
      const expired = parseExpired(ctx.query);
      const form = await readForm(ctx.request);
      const client = await authenticateClient(ctx.request, form, {
        mode: deps.login.mode,
        clients: deps.clients,
        allowPublic: true,
      });
      const type = required(form, "grant_type");
      if (!(GRANT_TYPES as readonly string[]).includes(type)) {
        throw new OAuthError("unsupported_grant_type", `Grant type "${type.slice(0, 40)}" is not supported`);
      }
      if (client.record !== null && !client.record.grantTypes.includes(type)) {
        throw new OAuthError("unauthorized_client", `Client is not registered for grant type "${type}"`);
      }
      const mock: MockControls | null = deps.login.mode === "open"
        ? parseMockControls(mockFields(form), { maxTtl: deps.maxTokenTtl, now: deps.keys.now() })
        : null;
      const response = await GRANTS[type as GrantType].run({ form, client, mock, expired, ip: ctx.ip }, deps);
      return json(ctx, 200, response, TOKEN_HEADERS);
    },
    ...(deps.guard ? [deps.guard] : []),
    oauthErrors,
  );
  return [{ path: "/token", methods: { POST: post }, use: [oauthErrors] }];
}
