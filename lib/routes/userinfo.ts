/**
 * `GET|POST /userinfo` (OpenID Connect Core §5.3) with a Bearer access token (the header, or
 * `access_token` in a form body, RFC 6750 §2): the token's `sub`, and `preferred_username` with
 * the `profile` scope, `email` with the `email` scope (registered users that have one). The
 * token must carry `openid`; failures answer RFC 6750 §3: 401 with `WWW-Authenticate: Bearer
 * error="invalid_token"` for a missing, expired, revoked or foreign token, 403 for its scope.
 * Open CORS: it takes no cookie, only the bearer token.
 * @module
 */
import { hasBody } from "../http/body.ts";
import { json } from "../http/respond.ts";
import type { Handler, Route } from "../http/router.ts";
import { verifyAccessToken } from "../oauth/access_tokens.ts";
import { OAuthError, oauthErrorResponse } from "../oauth/errors.ts";
import { readForm } from "../oauth/params.ts";
import type { LookupDeps } from "../oauth/token_lookup.ts";
import type { UserRecord } from "../store/ports.ts";

/** What `/userinfo` needs. */
export interface UserinfoDeps extends LookupDeps {
  /** The registered user named `username`, or null. */
  readonly users: { find(username: string): Promise<UserRecord | null> };
}

const REALM = 'realm="jwks-server"';
const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

function challenge(code: "invalid_request" | "invalid_token" | "insufficient_scope", description: string) {
  const header = `Bearer ${REALM}, error="${code}", error_description="${description}"` +
    (code === "insufficient_scope" ? ', scope="openid"' : "");
  return new OAuthError(code, description, { headers: { "www-authenticate": header } });
}

async function bearerToken(request: Request): Promise<string> {
  const header = request.headers.get("authorization");
  if (header !== null && /^bearer\b/i.test(header)) {
    const match = BEARER.exec(header);
    if (match === null) throw challenge("invalid_request", "Malformed Authorization header");
    return match[1]!;
  }
  if (request.method === "POST" && hasBody(request)) {
    const token = (await readForm(request)).get("access_token");
    if (token !== undefined) return token;
  }
  throw new OAuthError("invalid_token", "Send an access token", { headers: { "www-authenticate": `Bearer ${REALM}` } });
}

/** The `/userinfo` route. */
export function userinfoRoutes(deps: UserinfoDeps): Route[] {
  const handler: Handler = async (ctx) => {
    try {
      const token = await bearerToken(ctx.request);
      const claims = await verifyAccessToken(token, {
        view: deps.keys.view(),
        issuer: deps.issuer,
        now: deps.keys.now(),
        store: deps.store,
      });
      if (claims === null) throw challenge("invalid_token", "The access token is invalid, expired or revoked");
      const scope = String(claims.scope ?? "").split(" ");
      if (!scope.includes("openid")) throw challenge("insufficient_scope", "The access token lacks the openid scope");
      const subject = String(claims.sub);
      const body: Record<string, unknown> = { sub: subject };
      const user = scope.includes("profile") || scope.includes("email") ? await deps.users.find(subject) : null;
      if (scope.includes("profile")) body.preferred_username = user?.username ?? subject;
      if (scope.includes("email") && user?.email) body.email = user.email;
      return json(ctx, 200, body, { "cache-control": "no-store", pragma: "no-cache" });
    } catch (error) {
      return oauthErrorResponse(ctx, error);
    }
  };
  return [{ path: "/userinfo", methods: { GET: handler, POST: handler }, cors: true }];
}
