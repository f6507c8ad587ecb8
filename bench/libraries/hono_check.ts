/**
 * hono against the edge requirements other than speed, each checked with real requests next to
 * ours: 405 with `Allow` (hono by default, and with its `methodNotAllowed()`), OPTIONS on every
 * route and CORS only where a route opens it, HEAD from GET, one error handler mapping our codes
 * to statuses (a thrown `AppError`, an unknown error), and the request-id rule.
 *
 *     deno run -A bench/libraries/hono_check.ts
 * @module
 */
import { AppError } from "../../lib/core/errors.ts";
import { createRouter, type Route } from "../../lib/http/router.ts";
import { errorResponse, json } from "../../lib/http/respond.ts";
import { cors, Hono, methodNotAllowed, requestId, VERSIONS } from "./deps.ts";

const info = { remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" as const } };
type Answer = (request: Request) => Promise<Response>;

/** Two routes as our route table states them: an open-CORS GET and a credentialed POST. */
const ROUTES: Route[] = [
  { path: "/jwks", methods: { GET: (ctx) => json(ctx, 200, { keys: [] }) }, cors: true },
  {
    path: "/auth",
    methods: {
      POST: (ctx) => {
        if (ctx.query === "limited") {
          throw new AppError("rate_limited", "Too many requests; retry in 3 s", { retryAfter: 3 });
        }
        if (ctx.query === "crash") throw new Error("driver said: /var/db/keys.db is locked");
        return json(ctx, 200, { token: "t" });
      },
    },
  },
];

function ours(): Answer {
  const handle = createRouter(ROUTES, { onError: () => {} });
  return async (request) => await handle(request, info);
}

/** The same two routes on hono, the way its docs compose them. */
function hono(options: { methodNotAllowed: boolean }): Answer {
  const app = new Hono();
  app.use(requestId());
  if (options.methodNotAllowed) app.use(methodNotAllowed({ app }));
  app.use("/jwks", cors({ origin: "*", allowMethods: ["GET", "HEAD", "OPTIONS"] }));
  app.get("/jwks", (c) => c.json({ keys: [] }));
  app.post("/auth", (c) => {
    if (c.req.query("limited") !== undefined) {
      throw new AppError("rate_limited", "Too many requests; retry in 3 s", { retryAfter: 3 });
    }
    if (c.req.query("crash") !== undefined) throw new Error("driver said: /var/db/keys.db is locked");
    return c.json({ token: "t" });
  });
  const answering = (c: { get(key: "requestId"): string }) => ({ requestId: c.get("requestId"), report: () => {} });
  app.notFound((c) => errorResponse(answering(c), new AppError("not_found", "No such endpoint")));
  app.onError((error, c) => errorResponse(answering(c), error));
  return async (request) => await app.fetch(request, info);
}

interface Probe {
  readonly requirement: string;
  readonly request: () => Request;
  /** What ours answers, as a short text; the others are compared against it. */
  readonly show: (response: Response, body: string) => string;
}

const url = (path: string) => `http://127.0.0.1${path}`;
const PROBES: Probe[] = [
  {
    requirement: "known path, wrong method: 405 with Allow",
    request: () => new Request(url("/jwks"), { method: "DELETE" }),
    show: (r) => `${r.status} Allow: ${r.headers.get("allow")}`,
  },
  {
    requirement: "OPTIONS on a CORS route: 204 + open CORS",
    request: () =>
      new Request(url("/jwks"), {
        method: "OPTIONS",
        headers: { origin: "https://a.example", "access-control-request-method": "GET" },
      }),
    show: (r) => `${r.status} ACAO: ${r.headers.get("access-control-allow-origin")}`,
  },
  {
    requirement: "OPTIONS on a credentialed route: 204 + Allow, no CORS",
    request: () => new Request(url("/auth"), { method: "OPTIONS", headers: { origin: "https://evil.example" } }),
    show: (r) => `${r.status} Allow: ${r.headers.get("allow")} ACAO: ${r.headers.get("access-control-allow-origin")}`,
  },
  {
    requirement: "HEAD from GET: 200, no body",
    request: () => new Request(url("/jwks"), { method: "HEAD" }),
    show: (r, body) => `${r.status} body bytes: ${body.length}`,
  },
  {
    requirement: "thrown AppError → its status from the one table, Retry-After",
    request: () => new Request(url("/auth?limited"), { method: "POST" }),
    show: (r, body) => `${r.status} Retry-After: ${r.headers.get("retry-after")} ${body}`,
  },
  {
    requirement: "unknown error → generic 500, no detail",
    request: () => new Request(url("/auth?crash"), { method: "POST" }),
    show: (r, body) => `${r.status} ${body}`,
  },
  {
    requirement: "unknown path: 404 JSON error",
    request: () => new Request(url("/nope")),
    show: (r, body) => `${r.status} ${body.slice(0, 40)}`,
  },
  {
    requirement: 'client request id "a.b:c@d" kept (our rule [A-Za-z0-9._:@-]{1,128})',
    request: () => new Request(url("/jwks"), { headers: { "x-request-id": "a.b:c@d" } }),
    show: (r) => `X-Request-Id: ${r.headers.get("x-request-id")}`,
  },
];

if (import.meta.main) {
  const edges: [string, Answer][] = [
    ["ours", ours()],
    ["hono default", hono({ methodNotAllowed: false })],
    ["hono + methodNotAllowed()", hono({ methodNotAllowed: true })],
  ];
  console.log(`hono ${VERSIONS.hono}; cells that differ from ours are marked **differs**\n`);
  console.log(`| requirement | ${edges.map(([name]) => name).join(" | ")} |`);
  console.log(`| --- | ${edges.map(() => "---").join(" | ")} |`);
  for (const probe of PROBES) {
    const cells: string[] = [];
    for (const [, answer] of edges) {
      const response = await answer(probe.request());
      cells.push(probe.show(response, await response.text()).replaceAll("|", "\\|"));
    }
    console.log(
      `| ${probe.requirement} | ${
        cells.map((cell, i) => i > 0 && cell !== cells[0] ? `${cell} **differs**` : cell).join(" | ")
      } |`,
    );
  }
}
