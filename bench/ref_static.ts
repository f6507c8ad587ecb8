/**
 * Reference (a) of `deno task bench`: the runtime's ceiling for serving a fixed JSON body. A
 * bare `Deno.serve` that answers every request with the bytes of the file given as the first
 * argument (our own JWKS, fetched by the runner) and a JSON content type; nothing else.
 *
 *     deno run --allow-net --allow-read bench/ref_static.ts BODY_FILE [PORT]
 *
 * Logs `{"msg":"listening","url":...}` once it listens (port 0, the default, is ephemeral).
 * @module
 */
if (import.meta.main) {
  const [file, port = "0"] = Deno.args;
  if (file === undefined) throw new Error("usage: ref_static.ts BODY_FILE [PORT]");
  const body = Deno.readFileSync(file);
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(port),
    onListen: ({ port }) => console.log(JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${port}` })),
  }, () => new Response(body, { headers: { "content-type": "application/json" } }));
}
