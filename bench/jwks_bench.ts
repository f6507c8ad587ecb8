/**
 * Micro benchmarks of the JWKS path: the public projection of a key, serializing the document
 * and its ETag (once per key-set change), the cached key view, and `handle()` answering
 * `GET /.well-known/jwks.json` in process, next to the bare `Response` reference (a) builds per
 * request, and with one JSON access-log line per request added (by the generic logger, and from
 * a template string).
 * @module
 */
import { jwksDocument } from "../lib/core/key_ring.ts";
import { type PublicJwk, publicJwk } from "../lib/core/key_material.ts";
import type { RequestRecord } from "../lib/http/router.ts";
import { createLogger } from "../lib/ops/log.ts";
import { from, testApp } from "../tests/support/helpers.ts";

const app = await testApp({ "rate-limit": "off" });
const view = app.keys.view();
const keys: readonly PublicJwk[] = view.jwks.keys;
const privateJwk = { ...keys[0]!, d: "private", p: "p", q: "q", dp: "dp", dq: "dq", qi: "qi" };
const body = view.jwks.body;
const request = new Request("http://127.0.0.1:8080/.well-known/jwks.json");
const info = from("127.0.0.1");

let lines: string[] = [];
const log = createLogger({
  level: "info",
  clock: Date.now,
  write: (line) => {
    lines.push(line);
    if (lines.length >= 1024) lines = [];
  },
});
const logged = await testApp({ "rate-limit": "off" }, {
  app: { onRequest: (record: RequestRecord) => log.info("request", { ...record }) },
});
// The same line from a template: every field is known, none can hold a secret, so the generic
// logger's per-field redaction scan and object copy are not needed.
const lean = await testApp({ "rate-limit": "off" }, {
  app: {
    onRequest: (r: RequestRecord) => {
      lines.push(
        `{"time":"${new Date().toISOString()}","level":"info","msg":"request","method":"${r.method}","path":${
          JSON.stringify(r.path)
        },"route":"${r.route}","status":${r.status},"ms":${r.ms.toFixed(3)},"ip":"${r.ip}","requestId":${
          JSON.stringify(r.requestId)
        }}`,
      );
      if (lines.length >= 1024) lines = [];
    },
  },
});

Deno.bench("publicJwk(): allow-list projection of one RSA key", { group: "projection" }, () => {
  publicJwk(privateJwk, keys[0]!.kid, "RS256");
});
Deno.bench("jwksDocument(): serialize 2 RSA keys and hash the ETag", { group: "projection" }, () => {
  jwksDocument(keys);
});
Deno.bench("KeyManager.view(): the cached view", { group: "projection" }, () => {
  app.keys.view();
});

Deno.bench("bare new Response(body) as reference (a) builds it", { group: "GET jwks", baseline: true }, () => {
  new Response(body, { headers: { "content-type": "application/json" } });
});
Deno.bench("handle(GET /.well-known/jwks.json)", { group: "GET jwks" }, async () => {
  await app.handle(request, info);
});
Deno.bench(
  "handle(GET /.well-known/jwks.json) + one access-log line (generic logger)",
  { group: "GET jwks" },
  async () => {
    await logged.handle(request, info);
  },
);
Deno.bench("handle(GET /.well-known/jwks.json) + one access-log line (template)", { group: "GET jwks" }, async () => {
  await lean.handle(request, info);
});

globalThis.addEventListener("unload", () => void Promise.all([app.close(), logged.close(), lean.close()]));
