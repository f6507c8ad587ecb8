/**
 * The admin API's OAuth clients, mounted by `admin.ts` behind the same bearer guard:
 *
 * - `GET /admin/clients`: every client (never a secret or its hash)
 * - `POST /admin/clients` `{"name", "grant_types"?, "scopes"?, "redirect_uris"?, "audiences"?, "public"?}`:
 *   201 with the client and its `client_secret`, shown this once
 * - `POST /admin/clients/remove` `{"id"}`: removes the client and revokes its refresh tokens
 * @module
 */
import { AppError } from "../core/errors.ts";
import { readFields } from "../http/body.ts";
import { json, NO_STORE } from "../http/respond.ts";
import type { Handler, Route } from "../http/router.ts";
import { type ClientService, clientView } from "../oauth/clients.ts";

/** What the client routes need. */
export interface AdminClientDeps {
  readonly clients: ClientService;
  /** Unix milliseconds now. */
  readonly clock: () => number;
}

/** The admin client routes; `route` applies the admin guard. */
export function adminClientRoutes(
  deps: AdminClientDeps,
  route: (path: string, methods: Record<string, Handler>) => Route,
): Route[] {
  const { clients } = deps;
  const now = () => Math.floor(deps.clock() / 1000);
  return [
    route("/admin/clients", {
      GET: async (ctx) => json(ctx, 200, { clients: (await clients.list()).map(clientView) }, NO_STORE),
      POST: async (ctx) => {
        const fields = await readFields(ctx.request);
        const { client, secret } = await clients.register({
          name: fields.name,
          grantTypes: fields.grant_types,
          scopes: fields.scopes,
          redirectUris: fields.redirect_uris,
          audiences: fields.audiences,
          public: fields.public,
        }, now());
        return json(
          ctx,
          201,
          { ...clientView(client), ...(secret === null ? {} : { client_secret: secret }) },
          NO_STORE,
        );
      },
    }),
    route("/admin/clients/remove", {
      POST: async (ctx) => {
        const { id } = await readFields(ctx.request);
        if (typeof id !== "string" || id === "") {
          throw new AppError("invalid_field", 'Field "id" must be the client_id of a client', { field: "id" });
        }
        await clients.remove(id, now());
        return json(ctx, 200, { removed: id }, NO_STORE);
      },
    }),
  ];
}
