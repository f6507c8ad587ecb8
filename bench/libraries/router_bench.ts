/**
 * In-process cost of one JWKS request through each edge, no socket: the bare `Response` of
 * reference (a) with the same headers, ours (`createApp` + `app.handle`, `testApp`'s shape with
 * the rate limit off) and the two hono shapes of `hono_edge.ts` over the same app's keys and
 * metrics; plus a 304, a 404 and a 405 through ours and idiomatic hono.
 *
 *     deno bench -A bench/libraries/router_bench.ts   # Deno.bench, back to back
 *     deno run -A bench/libraries/router_bench.ts     # interleaved batches, median ns per call
 * @module
 */
import { from, testApp } from "../../tests/support/helpers.ts";
import { Hono } from "./deps.ts";
import { honoJwksApp } from "./hono_edge.ts";
import { type Case, interleave, registerBench, table } from "./measure.ts";

const app = await testApp({ "rate-limit": "off" });
const deps = {
  keys: app.keys,
  maxAge: app.config.policy.maxAge,
  metrics: app.metrics,
  onServed: (notModified: boolean) => app.metrics.jwksServed(notModified),
};
const idiomatic = honoJwksApp(deps, "idiomatic");
const lean = honoJwksApp(deps, "lean");
// hono's floor: one route, no middleware, the cached response cloned.
const cached = new Response(app.keys.view().jwks.body, { headers: { "content-type": "application/json" } });
const floor = new Hono().get("/.well-known/jwks.json", () => cached.clone());

const url = "http://127.0.0.1:8080/.well-known/jwks.json";
const info = { ...from("127.0.0.1"), remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" as const } };
const sample = await app.handle(new Request(url), info);
const body = new Uint8Array(await sample.arrayBuffer());
const etag = sample.headers.get("etag")!;
const fixed: Record<string, string> = {};
for (const [name, value] of sample.headers) if (name !== "x-request-id") fixed[name] = value;

// A fresh Request per iteration, as a server gets: hono caches parsed parts on it.
const get = () => new Request(url);
const conditional = () => new Request(url, { headers: { "if-none-match": etag } });
const unknown = () => new Request("http://127.0.0.1:8080/nope");
const wrongMethod = () => new Request(url, { method: "DELETE" });

/** The cases, in groups; the first of each group is its baseline. */
export const cases: Case[] = [
  {
    name: "bare: new Response(bytes, same headers + request id)",
    group: "GET 200",
    baseline: true,
    fn: () => {
      get();
      return new Response(body, { headers: { ...fixed, "x-request-id": crypto.randomUUID() } });
    },
  },
  { name: "ours: app.handle", group: "GET 200", fn: () => app.handle(get(), info) },
  { name: "hono idiomatic: app.fetch", group: "GET 200", fn: () => idiomatic.fetch(get(), info) },
  { name: "hono lean: app.fetch", group: "GET 200", fn: () => lean.fetch(get(), info) },
  { name: "hono floor: one route, no middleware", group: "GET 200", fn: () => floor.fetch(get(), info) },
  { name: "ours: 304", group: "GET 304", baseline: true, fn: () => app.handle(conditional(), info) },
  { name: "hono idiomatic: 304", group: "GET 304", fn: () => idiomatic.fetch(conditional(), info) },
  { name: "hono lean: 304", group: "GET 304", fn: () => lean.fetch(conditional(), info) },
  { name: "ours: 404", group: "errors", baseline: true, fn: () => app.handle(unknown(), info) },
  { name: "hono idiomatic: 404", group: "errors", fn: () => idiomatic.fetch(unknown(), info) },
  { name: "ours: 405 with Allow", group: "errors", fn: () => app.handle(wrongMethod(), info) },
  {
    name: "hono idiomatic: 405 with Allow (methodNotAllowed)",
    group: "errors",
    fn: () => idiomatic.fetch(wrongMethod(), info),
  },
];

registerBench(cases);

if (import.meta.main) {
  console.log(table(await interleave(cases)));
  await app.close();
}

globalThis.addEventListener("unload", () => void app.close());
