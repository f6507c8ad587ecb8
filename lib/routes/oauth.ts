/**
 * The OAuth 2.0 surface beside `/auth`, composed once: `POST /token`, `POST /introspect`,
 * `POST /revoke` and `GET|POST /userinfo`, all on one set of deps (the key view, the OAuth
 * store, clients, the login policy). Discovery lists them (`discovery.ts`); `docs/oauth.md`
 * says what each answers.
 * @module
 */
import type { Middleware, Route } from "../http/router.ts";
import type { ClientService } from "../oauth/clients.ts";
import type { GrantDeps } from "../oauth/grant.ts";
import type { UserRecord } from "../store/ports.ts";
import { introspectRoutes } from "./introspect.ts";
import { revokeRoutes } from "./revoke.ts";
import { tokenRoutes } from "./token.ts";
import { userinfoRoutes } from "./userinfo.ts";

/** What the OAuth routes need. */
export interface OAuthDeps extends GrantDeps {
  readonly clients: Pick<ClientService, "find">;
  readonly users: { find(username: string): Promise<UserRecord | null> };
  /** The longest `ttl` open mode's controls accept, seconds. */
  readonly maxTokenTtl: number;
  /** The rate limit of `/token`, run before its body is read. */
  readonly guard?: Middleware;
}

/** The OAuth routes. */
export function oauthRoutes(deps: OAuthDeps): Route[] {
  const endpoint = { ...deps, mode: deps.login.mode };
  return [
    ...tokenRoutes(deps),
    ...introspectRoutes(endpoint),
    ...revokeRoutes(endpoint),
    ...userinfoRoutes(deps),
  ];
}
