/**
 * `GET /.well-known/jwks.json` and `GET /jwks`: the published keys, with a strong ETag,
 * `If-None-Match` → 304, a `Cache-Control: max-age` derived from the key policy and open CORS.
 * No I/O: the body is the bytes the key ring serialized once per key-set change.
 * @module
 */
import type { JwksDocument, KeyView } from "../core/key_ring.ts";
import type { Handler, Route } from "../http/router.ts";

/** What the JWKS routes need. */
export interface JwksDeps {
  readonly keys: { view(): KeyView };
  /** `Cache-Control: max-age`, seconds. */
  readonly maxAge: number;
  /** Told about each answer: a full body, or 304. */
  readonly onServed?: (notModified: boolean) => void;
}

function ifNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}

/** The JWKS routes. */
export function jwksRoutes(deps: JwksDeps): Route[] {
  const { keys, maxAge, onServed } = deps;
  const headersOf = (doc: JwksDocument): Record<string, string> => ({
    "cache-control": `public, max-age=${maxAge}`,
    "etag": doc.etag,
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag",
  });
  // The 200 answer for each document, built once and cloned per request: a clone copies the
  // validated header list and shares the body bytes, where a fresh Response re-validates every
  // header (measured: most of the JWKS path's own cost, see bench/).
  const built = new WeakMap<JwksDocument, Response>();
  const handler: Handler = (ctx) => {
    const doc = keys.view().jwks;
    if (ifNoneMatch(ctx.request.headers.get("if-none-match"), doc.etag)) {
      onServed?.(true);
      return new Response(null, { status: 304, headers: { ...headersOf(doc), "x-request-id": ctx.requestId } });
    }
    onServed?.(false);
    let response = built.get(doc);
    if (response === undefined) {
      response = new Response(doc.body, { headers: { ...headersOf(doc), "content-type": "application/json" } });
      built.set(doc, response);
    }
    const answer = response.clone();
    answer.headers.set("x-request-id", ctx.requestId);
    return answer;
  };
  return [
    { path: "/.well-known/jwks.json", methods: { GET: handler }, cors: true },
    { path: "/jwks", methods: { GET: handler }, cors: true },
  ];
}
