/**
 * Per-request cost of recording a request (in-flight gauge, the counter with route/method/status
 * labels, the latency histogram) in ours (`lib/ops/metrics.ts`) and in prom-client
 * (`prom_metrics.ts`, plus prom-client's floor with the label children looked up once), and the
 * cost of one scrape of the same state with every gauge source watched.
 *
 *     deno bench -A bench/libraries/metrics_bench.ts   # Deno.bench, back to back
 *     deno run -A bench/libraries/metrics_bench.ts     # interleaved batches, median ns per call
 * @module
 */
import { Metrics } from "../../lib/ops/metrics.ts";
import { testApp } from "../../tests/support/helpers.ts";
import { promClient } from "./deps.ts";
import { type Case, interleave, registerBench, table } from "./measure.ts";
import { metricsPair, PromMetrics } from "./prom_metrics.ts";

const app = await testApp({});
const { ours, theirs } = metricsPair(app);

/** The case that records one request of the mix in `metrics`. */
function recordCase(name: string, metrics: Metrics | PromMetrics, baseline = false): Case {
  return {
    name,
    group: "record one request",
    ...(baseline ? { baseline } : {}),
    fn: () => {
      const [route, method, status, seconds] = next();
      metrics.requestStarted();
      metrics.request(route, method, status, seconds);
    },
  };
}

// A request mix over a few series, so neither side sees one label set only.
const MIX: readonly [string, string, number, number][] = [
  ["/.well-known/jwks.json", "GET", 200, 0.0004],
  ["/.well-known/jwks.json", "GET", 304, 0.0003],
  ["/auth", "POST", 200, 0.012],
  ["/jwks", "GET", 200, 0.0005],
];
let i = 0;
const next = () => MIX[i++ & 3]!;

// prom-client's floor: children looked up once per series, no label object per request.
const registry = new promClient.Registry();
const counter = new promClient.Counter({
  name: "c_total",
  help: "c",
  labelNames: ["route", "method", "status"],
  registers: [registry],
});
const histogram = new promClient.Histogram({ name: "h", help: "h", labelNames: ["route"], registers: [registry] });
const gauge = new promClient.Gauge({ name: "g", help: "g", registers: [registry] });
const children = MIX.map(([route, method, status]) => ({
  count: counter.labels({ route, method, status }),
  time: histogram.labels({ route }),
}));

// The state a scrape renders: every route of the app, a few statuses each.
const ROUTES = [
  "/.well-known/jwks.json",
  "/jwks",
  "/auth",
  "/register",
  "/healthz",
  "/readyz",
  "/metrics",
  "unmatched",
];
for (const m of [ours, theirs]) {
  for (const route of ROUTES) {
    for (const status of [200, 304, 400, 404, 405]) {
      m.requestStarted();
      m.request(route, "GET", status, 0.002);
    }
  }
}

/** The cases, in groups; the first of each group is its baseline. */
export const cases: Case[] = [
  recordCase("ours: requestStarted + request", ours, true),
  recordCase("prom-client: gauge inc/dec + counter.inc(labels) + histogram.observe(labels)", theirs),
  {
    name: "prom-client floor: children looked up once",
    group: "record one request",
    fn: () => {
      const child = children[i++ & 3]!;
      gauge.inc();
      gauge.dec();
      child.count.inc();
      child.time.observe(0.0004);
    },
  },
  { name: "ours: render()", group: "scrape", baseline: true, fn: () => ours.render() },
  { name: "prom-client: await registry.metrics()", group: "scrape", fn: () => theirs.render() },
];

registerBench(cases);

if (import.meta.main) {
  const scrapes = cases.filter((c) => c.group === "scrape");
  const records = cases.filter((c) => c.group !== "scrape");
  console.log(table([...await interleave(records), ...await interleave(scrapes, { batch: 50 })]));
  console.log(
    `scrape size: ours ${ours.render().length} bytes, prom-client ${(await theirs.render()).length} bytes`,
  );
  await app.close();
}
