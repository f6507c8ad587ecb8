/**
 * `POST /introspect` (RFC 7662): an authenticated confidential client (any `client_id` in open
 * mode) asks whether a token is active. Active access tokens answer with their claims; an
 * active refresh token answers only to the client it was issued to. Everything else — expired,
 * revoked, signed by a key no longer published, another issuer's, malformed — is `{"active":
 * false}`, with nothing more said.
 * @module
 */
import { json } from "../http/respond.ts";
import { type Route, use } from "../http/router.ts";
import { authenticateClient } from "../oauth/client_auth.ts";
import type { ClientService } from "../oauth/clients.ts";
import { oauthErrors } from "../oauth/errors.ts";
import { readForm, required } from "../oauth/params.ts";
import { findToken, type LookupDeps } from "../oauth/token_lookup.ts";
import type { AuthMode } from "../users/login.ts";
import { TOKEN_HEADERS } from "./token.ts";

/** What `/introspect` and `/revoke` need. */
export interface TokenEndpointDeps extends LookupDeps {
  readonly mode: AuthMode;
  readonly clients: Pick<ClientService, "find">;
}

/**
 * Reads a `/introspect` or `/revoke` request: authenticates the client (public ones only where
 * `allowPublic`) and looks up its `token` parameter (null when it is no token of ours).
 */
export async function readTokenRequest(request: Request, deps: TokenEndpointDeps, allowPublic: boolean) {
  const form = await readForm(request);
  const client = await authenticateClient(request, form, { mode: deps.mode, clients: deps.clients, allowPublic });
  return { client, found: await findToken(required(form, "token"), deps) };
}

/** The `POST /introspect` route. */
export function introspectRoutes(deps: TokenEndpointDeps): Route[] {
  const post = use(async (ctx) => {
    const { client, found } = await readTokenRequest(ctx.request, deps, false);
    if (found?.kind === "access_token") {
      return json(ctx, 200, { ...found.claims, active: true, token_type: "Bearer" }, TOKEN_HEADERS);
    }
    if (found?.kind === "refresh_token" && found.refresh.grant.clientId === client.id) {
      const { grant, createdAt, expiresAt } = found.refresh;
      return json(ctx, 200, {
        active: true,
        iss: deps.issuer,
        sub: grant.subject,
        aud: grant.audience.length === 1 ? grant.audience[0] : grant.audience,
        client_id: grant.clientId,
        scope: grant.scope,
        iat: createdAt,
        exp: expiresAt,
      }, TOKEN_HEADERS);
    }
    return json(ctx, 200, { active: false }, TOKEN_HEADERS);
  }, oauthErrors);
  return [{ path: "/introspect", methods: { POST: post }, use: [oauthErrors] }];
}
