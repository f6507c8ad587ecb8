/**
 * The raw-socket attacks of the hostile run: hold `count` connections open until `until`,
 * reconnecting each one the server closes (so the pressure never lets up), either sending
 * nothing at all or trickling a request head one byte a second that never ends. Bounded: at
 * most `count` sockets at a time and 20 × `count` connections in all. Loopback only.
 * @module
 */
import { sleep } from "./harness.ts";

const encoder = new TextEncoder();

/** Keeps `count` attacker connections open until `until`; `feed` runs on each (and ends with it). */
async function hold(
  port: number,
  count: number,
  until: number,
  feed: (conn: Deno.TcpConn, until: number) => Promise<void>,
): Promise<{ opened: number; refused: number; closedByServer: number }> {
  const budget = 20 * count;
  const stats = { opened: 0, refused: 0, closedByServer: 0 };
  const open = new Set<Deno.TcpConn>();
  const watch = (conn: Deno.TcpConn) => {
    // A read that ends (null or error) means the server closed the connection.
    void conn.read(new Uint8Array(256)).then(
      (n) => n === null && open.has(conn) && (stats.closedByServer++, open.delete(conn)),
      () => open.has(conn) && (stats.closedByServer++, open.delete(conn)),
    );
  };
  while (Date.now() < until) {
    const wanted = Math.min(count - open.size, budget - stats.opened - stats.refused);
    const batch: Promise<void>[] = [];
    for (let i = 0; i < wanted; i++) {
      batch.push(
        Deno.connect({ hostname: "127.0.0.1", port }).then((conn) => {
          stats.opened++;
          open.add(conn);
          watch(conn);
          void feed(conn, until).catch(() => {});
        }, () => void stats.refused++),
      );
      if (batch.length >= 64) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    await sleep(200);
  }
  for (const conn of open) {
    try {
      conn.close();
    } catch {
      // closed by the server meanwhile
    }
  }
  return stats;
}

const describe = (what: string, stats: { opened: number; refused: number; closedByServer: number }) =>
  `${stats.opened} ${what} opened (${stats.closedByServer} closed by the server, ${stats.refused} refused)`;

/** Connections that send nothing. */
export async function idleSockets(port: number, count: number, until: number): Promise<string> {
  return describe("idle sockets", await hold(port, count, until, () => Promise.resolve()));
}

/** Connections that send a request head one byte a second, never finishing it. */
export async function slowloris(port: number, count: number, until: number): Promise<string> {
  const feed = async (conn: Deno.TcpConn, end: number) => {
    await conn.write(encoder.encode("GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    for (let i = 0; Date.now() < end; i++) {
      await sleep(1000);
      await conn.write(encoder.encode(i % 2 === 0 ? "X" : "-"));
    }
  };
  return describe("slowloris connections", await hold(port, count, until, feed));
}
