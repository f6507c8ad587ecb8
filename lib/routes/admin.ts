/**
 * The admin API: key management over HTTP under `/admin/keys`, mounted only when `ADMIN_TOKEN`
 * is set. Every request must carry `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant
 * time (SHA-256 digests of both sides, so neither the content nor the length leaks); anything
 * else is 401 before the body is read. These routes are not rate limited like `/auth`, and the
 * public endpoints never look at them.
 *
 * - `GET /admin/keys`: every stored key and its status
 * - `POST /admin/keys/rotate`: rotate now
 * - `POST /admin/keys/revoke` `{"kid"}`: emergency revoke
 * - `POST /admin/keys/import[?alg=A]`: a PEM or JWK private key as the body
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "../core/errors.ts";
import {
  type Handler,
  json,
  readBody,
  readFields,
  type RequestContext,
  type Route,
  type RouteTable,
  splitUrl,
} from "../http/router.ts";
import { importKey, listKeyInfo, revokeKey, rotateKeys } from "../keys/key_reports.ts";
import { keyMaterialFromText } from "../keys/key_files.ts";
import type { KeyManager } from "../keys/key_manager.ts";
import { ALGS, isAlg } from "../core/key_material.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import type { KeyStore } from "../store/ports.ts";

/** Options of {@linkcode adminRoutes}. */
export interface AdminOptions {
  /** The bearer token (`ADMIN_TOKEN`). */
  token: string;
  keys: KeyManager;
  store: Pick<KeyStore, "listKeys">;
  /** Audit log: every admin action and every rejected admin request (never the token). */
  log?: Logger;
}

const noStore = { "cache-control": "no-store" };
const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text, "utf8").digest();
}

function authorize(ctx: RequestContext, expected: Uint8Array, log: Logger): void {
  const header = ctx.request.headers.get("authorization");
  const match = header === null ? null : BEARER.exec(header);
  const ok = match !== null && timingSafeEqual(digest(match[1]!), expected);
  if (!ok) {
    log.warn("admin_unauthorized", { path: splitUrl(ctx.request.url).path, ip: ctx.ip, requestId: ctx.requestId });
  }
  if (match === null) {
    throw new AppError("unauthorized", "Send Authorization: Bearer <ADMIN_TOKEN>", {
      headers: { "www-authenticate": 'Bearer realm="jwks-server admin"' },
    });
  }
  if (!ok) {
    throw new AppError("unauthorized", "Invalid admin token", {
      headers: { "www-authenticate": 'Bearer realm="jwks-server admin", error="invalid_token"' },
    });
  }
}

/** The admin routes, to merge into the HTTP route table. */
export function adminRoutes(options: AdminOptions): RouteTable {
  const expected = digest(options.token);
  const { keys, store } = options;
  const log = options.log ?? silentLogger;
  const guarded = (handler: Handler): Handler => (ctx) => {
    authorize(ctx, expected, log);
    if (ctx.request.method !== "GET") {
      log.info("admin_action", { path: splitUrl(ctx.request.url).path, ip: ctx.ip, requestId: ctx.requestId });
    }
    return handler(ctx);
  };
  const route = (name: string, methods: Route["methods"]): [string, Route] => [
    name,
    { name, methods: Object.fromEntries(Object.entries(methods).map(([m, h]) => [m, guarded(h!)])) },
  ];

  return new Map([
    route("/admin/keys", {
      GET: async (ctx) => json(ctx, 200, { keys: await listKeyInfo(store, keys.now()) }, noStore),
    }),
    route("/admin/keys/rotate", {
      POST: async (ctx) => json(ctx, 200, await rotateKeys(keys, store), noStore),
    }),
    route("/admin/keys/revoke", {
      POST: async (ctx) => {
        const { kid } = await readFields(ctx.request);
        if (typeof kid !== "string" || kid === "") {
          throw new AppError("invalid_field", 'Field "kid" must be the kid of a stored key', { field: "kid" });
        }
        return json(ctx, 200, await revokeKey(keys, store, kid), noStore);
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
        let text: string;
        try {
          text = new TextDecoder("utf-8", { fatal: true }).decode(await readBody(ctx.request));
        } catch (error) {
          if (error instanceof AppError) throw error;
          throw new AppError("bad_request", "Request body is not valid UTF-8");
        }
        const material = await keyMaterialFromText(text, alg ?? undefined);
        const report = await importKey(keys, store, material);
        return json(ctx, 201, { kid: material.kid, ...report }, noStore);
      },
    }),
  ]);
}
