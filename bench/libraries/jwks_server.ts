/**
 * One JWKS server for the edge comparison, in one of five modes, all over the same database
 * file (so every mode serves the same key set, byte for byte):
 * - `static`: bare `Deno.serve`, the JWKS bytes and `Content-Type` only (issue 17's reference);
 * - `bare`: bare `Deno.serve`, the same bytes and the same headers as ours, built per request;
 * - `ours`: `createApp()` + `app.handle` (open mode, rate limit off, no access log: `testApp`'s shape);
 * - `hono`, `hono-lean`: `bench/libraries/hono_edge.ts` over the same app's key set and metrics.
 *
 *     deno run -A bench/libraries/jwks_server.ts MODE DB_FILE [PORT]
 *
 * Binds 127.0.0.1 and logs `{"msg":"listening","url":...}` once it listens.
 * @module
 */
import { createApp } from "../../lib/app.ts";
import { loadConfig } from "../../lib/settings.ts";
import { argon2Hasher } from "../../lib/users/argon2.ts";
import { honoJwksApp } from "./hono_edge.ts";

/** The modes this server runs in. */
export const MODES = ["static", "bare", "ours", "hono", "hono-lean"] as const;
export type Mode = typeof MODES[number];

/** The master secret every mode opens the shared database with (a bench-only value). */
export const BENCH_SECRET = "bench/libraries master secret, not for production";

if (import.meta.main) {
  const [mode, db, port = "0"] = Deno.args as [Mode | undefined, string | undefined, string?];
  if (mode === undefined || !MODES.includes(mode) || db === undefined) {
    throw new Error(`usage: jwks_server.ts ${MODES.join("|")} DB_FILE [PORT]`);
  }
  const config = loadConfig({ db, auth: "open", "rate-limit": "off" }, {});
  const app = await createApp(config, { clock: Date.now, masterSecret: BENCH_SECRET, hasher: argon2Hasher() });
  const info = { remoteAddr: { hostname: "127.0.0.1", port: 0, transport: "tcp" as const } };
  let handler: Deno.ServeHandler<Deno.NetAddr>;
  if (mode === "static" || mode === "bare") {
    // Take the exact bytes and headers ours answers with, then serve them with nothing else.
    const sample = await app.handle(new Request("http://127.0.0.1/.well-known/jwks.json"), info);
    const body = new Uint8Array(await sample.arrayBuffer());
    const fixed: Record<string, string> = {};
    for (const [name, value] of sample.headers) if (name !== "x-request-id") fixed[name] = value;
    await app.close();
    handler = mode === "static"
      ? () => new Response(body, { headers: { "content-type": "application/json" } })
      : () => new Response(body, { headers: { ...fixed, "x-request-id": crypto.randomUUID() } });
  } else if (mode === "ours") {
    handler = app.handle;
  } else {
    const hono = honoJwksApp(
      {
        keys: app.keys,
        maxAge: config.policy.maxAge,
        metrics: app.metrics,
        onServed: (notModified) => app.metrics.jwksServed(notModified),
      },
      mode === "hono" ? "idiomatic" : "lean",
    );
    handler = hono.fetch;
  }
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(port),
    onListen: ({ port }) => console.log(JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${port}`, mode })),
  }, handler);
}
