import assert from "node:assert/strict";
import { scenario, withServer } from "../support/server_process.ts";

const encoder = new TextEncoder();
const ALICE = { username: "alice", password: "alice-password-0123" };

scenario("clients trickling a body (or headers) one byte per second do not hold up other requests", async () => {
  await withServer({
    env: { NOT_MY_KEY: "slow client test secret, 32 bytes" },
    args: ["--rate-limit", "off", "--seed-user", `${ALICE.username}:${ALICE.password}`],
  }, async (server) => {
    const slow: Deno.TcpConn[] = [];
    try {
      const port = Number(new URL(server.url).port);
      for (let i = 0; i < 20; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        slow.push(conn);
        // Half send whole headers and then a body byte by byte, half send the headers themselves slowly.
        await conn.write(encoder.encode(
          i % 2 === 0
            ? "POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n"
            : "POST /auth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-",
        ));
      }
      // The slow clients are the scenario: one byte each per second, three times, then they hang up.
      // Body bytes for the first kind, more of a valid header name ("Content-Len") for the second.
      // A server may drop a client that dawdles; that is allowed, holding up others is not.
      let trickling = true;
      const trickle = (async () => {
        for (let second = 0; second < 3; second++) {
          for (const [i, conn] of slow.entries()) {
            await conn.write(encoder.encode(i % 2 === 0 ? "{xx"[second]! : "Len"[second]!)).catch(() => 0);
          }
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        trickling = false;
      })();

      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const jwks = await fetch(`${server.url}/.well-known/jwks.json`);
        await jwks.body?.cancel();
        const auth = await fetch(`${server.url}/auth`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(ALICE),
        });
        await auth.body?.cancel();
        const health = await fetch(`${server.url}/healthz`);
        await health.body?.cancel();
        statuses.push(jwks.status, auth.status, health.status);
      }
      const doneWhileTrickling = trickling;
      await trickle;
      assert.deepEqual(statuses, Array(30).fill(200), "every ordinary request succeeded");
      assert.ok(doneWhileTrickling, "all 30 finished while the 20 slow clients were still sending");

      for (const conn of slow.splice(0)) conn.close();
      const after = await fetch(`${server.url}/healthz`);
      assert.equal(after.status, 200, "the abandoned requests leave the server healthy");
      await after.body?.cancel();
      assert.equal(await server.stop(), 0);
      assert.deepEqual(server.lines.filter((line) => line.includes('"level":"error"')), [], "and log no error");
    } finally {
      for (const conn of slow) conn.close();
    }
  });
});
