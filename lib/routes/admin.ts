/**
 * The admin API: key management over HTTP under `/admin/keys`, mounted only when `ADMIN_TOKEN`
 * is set. Every request, preflight included, must carry `Authorization: Bearer <ADMIN_TOKEN>`
 * (the bearer guard compares it in constant time before anything else is read). Not rate
 * limited like `/auth`; the public endpoints never look at it.
 *
 * - `GET /admin/keys`: every stored key and its status
 * - `POST /admin/keys/rotate`: rotate now
 * - `POST /admin/keys/revoke` `{"kid"}`: emergency revoke
 * - `POST /admin/keys/import[?alg=A]`: a PEM or JWK private key as the body
 * - `/admin/clients…`: OAuth clients (`admin_clients.ts`)
 * @module
 */
import { AppError } from "../core/errors.ts";
import { ALGS, isAlg } from "../core/key_material.ts";
import { readFields, readText } from "../http/body.ts";
import { bearerGuard } from "../http/middleware.ts";
import { json, NO_STORE } from "../http/respond.ts";
import type { Handler, RequestContext, Route } from "../http/router.ts";
import { keyMaterialFromText } from "../keys/key_files.ts";
import type { KeyManager } from "../keys/key_manager.ts";
import { changeKeys, listKeyInfo } from "../keys/key_reports.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import type { KeyStore } from "../store/ports.ts";
import { type AdminClientDeps, adminClientRoutes } from "./admin_clients.ts";

/** What the admin routes need. */
export interface AdminDeps {
  /** The bearer token (`ADMIN_TOKEN`). */
  readonly token: string;
  readonly keys: KeyManager;
  readonly store: Pick<KeyStore, "listKeys">;
  /** Audit log: every admin action and every refused admin request (never the token). */
  readonly log?: Logger;
  /** OAuth clients; without them there are no `/admin/clients` routes. */
  readonly clients?: AdminClientDeps["clients"];
  /** Unix milliseconds now (for client registration). Default `Date.now`. */
  readonly clock?: () => number;
}

/** The admin routes. */
export function adminRoutes(deps: AdminDeps): Route[] {
  const { keys, store } = deps;
  const log = deps.log ?? silentLogger;
  const where = (ctx: RequestContext) => ({ path: ctx.path, ip: ctx.ip, requestId: ctx.requestId });
  const guard = bearerGuard(deps.token, {
    realm: "jwks-server admin",
    onRefused: (ctx) => log.warn("admin_unauthorized", where(ctx)),
    onAdmitted: (ctx) => {
      if (ctx.request.method !== "GET") log.info("admin_action", where(ctx));
    },
  });
  const route = (path: string, methods: Record<string, Handler>): Route => ({ path, methods, use: [guard] });

  return [
    route("/admin/keys", {
      GET: async (ctx) => json(ctx, 200, { keys: await listKeyInfo(store, keys.now()) }, NO_STORE),
    }),
    route("/admin/keys/rotate", {
      POST: async (ctx) => json(ctx, 200, await changeKeys(keys, store, { kind: "rotate" }), NO_STORE),
    }),
    route("/admin/keys/revoke", {
      POST: async (ctx) => {
        const { kid } = await readFields(ctx.request);
        if (typeof kid !== "string" || kid === "") {
          throw new AppError("invalid_field", 'Field "kid" must be the kid of a stored key', { field: "kid" });
        }
        return json(ctx, 200, await changeKeys(keys, store, { kind: "revoke", kid }), NO_STORE);
      },
    }),
    route("/admin/keys/import", {
      POST: async (ctx) => {
        const alg = new URLSearchParams(ctx.query).get("alg");
        if (alg !== null && !isAlg(alg)) {
          throw new AppError("invalid_field", `Query parameter "alg" must be one of ${ALGS.join(", ")}`, {
            field: "alg",
          });
        }
        const material = await keyMaterialFromText(await readText(ctx.request), alg ?? undefined);
        const report = await changeKeys(keys, store, { kind: "import", material });
        return json(ctx, 201, { kid: material.kid, ...report }, NO_STORE);
      },
    }),
    ...(deps.clients === undefined
      ? []
      : adminClientRoutes({ clients: deps.clients, clock: deps.clock ?? Date.now }, route)),
  ];
}
