import assert from "node:assert/strict";
import { scenario, withServer } from "../support/server_process.ts";

/** Whether `conn` is still open: a read that neither returns data nor ends within `ms`. */
async function stillOpen(conn: Deno.Conn, ms = 200): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    conn.read(new Uint8Array(16)).catch(() => null),
    new Promise<"open">((resolve) => (timer = setTimeout(() => resolve("open"), ms))),
  ]);
  clearTimeout(timer);
  return outcome === "open";
}

scenario("400 idle sockets at ulimit -n 256 do not end the server: clients old and new are served", async (t) => {
  await withServer({
    env: { NOT_MY_KEY: "connections test secret, 32 bytes" },
    args: ["--auth", "open"],
    descriptorLimit: 256,
  }, async (server) => {
    const port = Number(new URL(server.url).port);
    const client = Deno.createHttpClient({});
    const idle: Deno.Conn[] = [];
    try {
      await t.step("a keep-alive client connects before the flood", async () => {
        const response = await fetch(`${server.url}/.well-known/jwks.json`, { client });
        assert.equal(response.status, 200);
        await response.body?.cancel();
      });
      await t.step("400 connections that never send a byte are all accepted by the kernel", async () => {
        for (let i = 0; i < 400; i++) idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      });
      await t.step("the server is alive and the keep-alive client is still served", async () => {
        const response = await fetch(`${server.url}/.well-known/jwks.json`, { client });
        assert.equal(response.status, 200);
        assert.ok((await response.json()).keys.length > 0);
        assert.ok(server.running());
      });
      await t.step("a new client gets a connection: the oldest idle sockets made room", async () => {
        for (const path of ["/healthz", "/readyz", "/.well-known/jwks.json"]) {
          const response = await fetch(`${server.url}${path}`);
          assert.equal(response.status, 200, path);
          await response.body?.cancel();
        }
        const open = (await Promise.all(idle.map((conn) => stillOpen(conn)))).filter(Boolean).length;
        assert.ok(open < 256, `the server kept ${open} idle sockets, under its descriptor limit`);
      });
      await t.step("the crowding was logged, and the stop is clean", async () => {
        for (const conn of idle.splice(0)) conn.close();
        client.close();
        assert.ok(server.lines.some((line) => /"msg":"(connections_shed|descriptors_exhausted)"/.test(line)));
        assert.equal(await server.stop(), 0);
        assert.ok(!server.lines.some((line) => /Too many open files/.test(line)));
      });
    } finally {
      for (const conn of idle) conn.close();
    }
  });
});

scenario("a silent connection and a half-sent request head are closed after --header-timeout", async () => {
  await withServer({
    env: { NOT_MY_KEY: "connections test secret, 32 bytes" },
    args: ["--header-timeout", "300ms", "--idle-timeout", "300ms"],
  }, async (server) => {
    const port = Number(new URL(server.url).port);
    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    const slowloris = await Deno.connect({ hostname: "127.0.0.1", port });
    await slowloris.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: "));
    try {
      for (const conn of [silent, slowloris]) {
        const ended = await Promise.race([
          conn.read(new Uint8Array(16)).catch(() => null),
          new Promise<"open">((resolve) => setTimeout(() => resolve("open"), 5000)),
        ]);
        assert.equal(ended, null, "the server closed the connection");
      }
      assert.equal(await server.stop(), 0);
    } finally {
      silent.close();
      slowloris.close();
    }
  });
});
