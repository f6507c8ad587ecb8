/**
 * The console routes: the read-only page at `GET /`, its script and stylesheet, the public key
 * schedule `GET /console/keys.json` (weak ETag, so polling costs a 304) and the key view
 * fragment the page swaps in when that schedule changes. Every response carries a strict CSP
 * and framing denied. No admin action and no private data here; tokens come from `/auth`.
 * @module
 */
import { createHash } from "node:crypto";
import type { KeyView } from "../core/key_ring.ts";
import type { Handler, RequestContext, Route } from "../http/router.ts";
import type { KeyStore } from "../store/ports.ts";
import { consolePage, keysView } from "../console/page.ts";
import { etagMatches, type KeySchedule, keySchedule } from "../console/schedule.ts";
import { CONSOLE_JS } from "../console/script.ts";
import { CONSOLE_CSS } from "../console/style.ts";

/** What {@linkcode consoleRoutes} needs. */
export interface ConsoleDeps {
  /** The current key view and now in unix seconds (a `KeyManager`). */
  readonly keys: { view(): KeyView; now(): number };
  /** Where the schedule (publish, sign and expiry times) of the published keys is read. */
  readonly store: Pick<KeyStore, "listKeys">;
  readonly issuer: string;
  readonly authMode: "open" | "password";
  /** The discovery document, for the endpoint list. Default: the issuer and its JWKS URI. */
  readonly discovery?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** How often the page polls for key changes, in milliseconds. Default 2000. */
  readonly pollMs?: number;
}

/** The Content-Security-Policy of every console response. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The security headers of every console and sign-in response (the CSP may be replaced). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy": CONSOLE_CSP,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
});

/** A response with {@linkcode SECURITY_HEADERS} and the request id; `headers` win. */
export function respond(
  ctx: Pick<RequestContext, "requestId">,
  status: number,
  body: BodyInit | null,
  headers: Record<string, string>,
): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, ...headers, "x-request-id": ctx.requestId } });
}

/** A static asset: served under a content-hashed URL, so it may be cached for good. */
export function asset(path: string, type: string, text: string): { url: string; handler: Handler } {
  const body = new TextEncoder().encode(text);
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 16);
  const etag = `"${hash}"`;
  const headers = { "content-type": type, "cache-control": "public, max-age=31536000, immutable", etag };
  return {
    url: `${path}?v=${hash}`,
    handler: (ctx) =>
      etagMatches(ctx.request.headers.get("if-none-match"), etag)
        ? respond(ctx, 304, null, headers)
        : respond(ctx, 200, body, headers),
  };
}

/** The endpoints of a discovery document worth listing: the issuer and every URL it names. */
export function endpointsOf(document: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(document)) {
    if (typeof value !== "string") continue;
    if (name === "issuer" || name.endsWith("_endpoint") || name.endsWith("_uri")) out.push([name, value]);
  }
  return out;
}

/**
 * The console routes. The schedule is read from the store once per key view (a view lasts
 * until the next lifecycle boundary or key-set change), so polling does no I/O.
 *
 * @example
 * ```ts
 * const routes = consoleRoutes({ keys: manager, store, issuer, authMode: "open" });
 * ```
 */
export function consoleRoutes(deps: ConsoleDeps): Route[] {
  const pollMs = deps.pollMs ?? 2000;
  const schedules = new WeakMap<KeyView, Promise<KeySchedule>>();
  const current = async (): Promise<{ schedule: KeySchedule; now: number }> => {
    const view = deps.keys.view();
    let schedule = schedules.get(view);
    if (schedule === undefined) {
      const now = deps.keys.now();
      schedule = deps.store.listKeys().then((records) => keySchedule(view.jwks.keys, records, now));
      schedules.set(view, schedule);
      // A failed read is not remembered: the next request tries again.
      schedule.catch(() => schedules.delete(view));
    }
    return { schedule: await schedule, now: deps.keys.now() };
  };
  const discovery = deps.discovery ??
    (() => ({ issuer: deps.issuer, jwks_uri: `${deps.issuer}/.well-known/jwks.json` }));
  const js = asset("/console/console.js", "text/javascript; charset=utf-8", CONSOLE_JS);
  const css = asset("/console/console.css", "text/css; charset=utf-8", CONSOLE_CSS);
  const html = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };

  const page: Handler = async (ctx) => {
    const { schedule, now } = await current();
    const endpoints = endpointsOf(await discovery());
    const body = consolePage({
      issuer: deps.issuer,
      authMode: deps.authMode,
      endpoints,
      schedule,
      now,
      assets: { css: css.url, js: js.url },
      pollMs,
    });
    return respond(ctx, 200, body, html);
  };

  const keysJson: Handler = async (ctx) => {
    const { schedule, now } = await current();
    const headers = { "content-type": "application/json", "cache-control": "no-cache", etag: schedule.etag };
    if (etagMatches(ctx.request.headers.get("if-none-match"), schedule.etag)) return respond(ctx, 304, null, headers);
    return respond(ctx, 200, `{"now":${now},"keys":${schedule.keysJson}}`, headers);
  };

  const keysFragment: Handler = async (ctx) => {
    const { schedule, now } = await current();
    return respond(ctx, 200, keysView(schedule, now).markup, html);
  };

  return [
    { path: "/", methods: { GET: page } },
    { path: "/console/console.js", methods: { GET: js.handler } },
    { path: "/console/console.css", methods: { GET: css.handler } },
    { path: "/console/keys.json", methods: { GET: keysJson } },
    { path: "/console/keys.html", methods: { GET: keysFragment } },
  ];
}
