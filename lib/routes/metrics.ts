/**
 * `GET /metrics`: the Prometheus text exposition (version 0.0.4) of the registry in
 * `lib/ops/metrics.ts`, rendered at scrape time. Not cacheable.
 * @module
 */
import type { Route } from "../http/router.ts";
import { METRICS_CONTENT_TYPE } from "../ops/metrics.ts";

/** The `GET /metrics` route over anything that renders the exposition text. */
export function metricsRoutes(metrics: { render(): string }): Route[] {
  return [{
    path: "/metrics",
    methods: {
      GET: (ctx) =>
        new Response(metrics.render(), {
          headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store", "x-request-id": ctx.requestId },
        }),
    },
  }];
}
