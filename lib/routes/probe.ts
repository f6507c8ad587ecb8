/**
 * `GET /probe/tokens` (open mode only): the probe's control token and forged-token catalogue as
 * JSON, signed with the live keys, so a test suite in any language can loop over them without
 * the CLI. Never cached. The catalogue lives in `lib/probe/`.
 * @module
 */
import { NO_STORE } from "../http/respond.ts";
import type { Route } from "../http/router.ts";
import { probeTokensHandler, type ProbeTokensOptions } from "../probe/tokens_route.ts";

/** The `GET /probe/tokens` route; the handler itself answers 404 outside open mode. */
export function probeRoutes(deps: ProbeTokensOptions): Route[] {
  const handler = probeTokensHandler(deps);
  return [{
    path: "/probe/tokens",
    methods: {
      GET: async (ctx) => {
        const response = await handler(ctx.request);
        response.headers.set("x-request-id", ctx.requestId);
        for (const [name, value] of Object.entries(NO_STORE)) response.headers.set(name, value);
        return response;
      },
    },
  }];
}
