/**
 * `POST /revoke` (RFC 7009): a client revokes a token it was issued. A refresh token revokes its
 * whole grant (the refresh tokens and the access tokens issued with them); an access token is
 * revoked by its `jti` until its `exp`, through the store, so every instance refuses it at once.
 * An unknown, expired or malformed token is 200 and nothing happens (§2.2); a token issued to
 * another client is refused with `unauthorized_client`.
 * @module
 */
import { type Route, use } from "../http/router.ts";
import { OAuthError, oauthErrors } from "../oauth/errors.ts";
import { readTokenRequest, type TokenEndpointDeps } from "./introspect.ts";
import { TOKEN_HEADERS } from "./token.ts";

/** The `POST /revoke` route. */
export function revokeRoutes(deps: TokenEndpointDeps): Route[] {
  const post = use(async (ctx) => {
    const { client, found } = await readTokenRequest(ctx.request, deps, true);
    if (found !== null) {
      const owner = found.kind === "access_token" ? found.claims.client_id : found.refresh.grant.clientId;
      if (owner !== client.id) throw new OAuthError("unauthorized_client", "The token was issued to another client");
      if (found.kind === "access_token") {
        await deps.store.revokeAccessToken(String(found.claims.jti), Number(found.claims.exp));
      } else {
        await deps.store.revokeGrant(found.refresh.grant.id, deps.keys.now());
      }
    }
    return new Response(null, { status: 200, headers: { ...TOKEN_HEADERS, "x-request-id": ctx.requestId } });
  }, oauthErrors);
  return [{ path: "/revoke", methods: { POST: post }, use: [oauthErrors] }];
}
