/**
 * The listener on real sockets, in this process: timeouts, the cap, refused bodies and a full
 * stop, each against a raw TCP client that behaves exactly as badly as the case needs. Limits
 * are short (a few hundred ms) so each case ends quickly; every read is bounded.
 * @module
 */
import assert from "node:assert/strict";
import { readBody } from "../../lib/http/body.ts";
import type { ConnectionLimits, ListenerEvent } from "../../lib/http/connections.ts";
import { listen } from "../../lib/http/listener.ts";
import { errorResponse } from "../../lib/http/respond.ts";

const encoder = new TextEncoder();
const LIMITS: ConnectionLimits = { maxConnections: 8, headerTimeoutMs: 300, idleTimeoutMs: 300, bodyTimeoutMs: 300 };

/** What a raw client saw: everything the server sent, and whether it closed within `withinMs`. */
async function readToEnd(conn: Deno.Conn, withinMs = 5000): Promise<{ text: string; closed: boolean }> {
  const buffer = new Uint8Array(16384);
  let text = "";
  const deadline = Date.now() + withinMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { text, closed: false };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buffer).catch(() => null),
      new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), left))),
    ]);
    clearTimeout(timer);
    if (n === "late") return { text, closed: false };
    if (n === null) return { text, closed: true };
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
}

/** Runs `fn` against a listener on an ephemeral port serving `handler`; stops it afterwards. */
async function withListener(
  handler: (request: Request) => Response | Promise<Response>,
  fn: (port: number, events: ListenerEvent[]) => Promise<void>,
  limits: ConnectionLimits = LIMITS,
): Promise<void> {
  let port = 0;
  const events: ListenerEvent[] = [];
  const listener = listen({
    hostname: "127.0.0.1",
    port: 0,
    limits,
    onListen: (addr) => (port = addr.port),
    onEvent: (event) => events.push(event),
  }, handler);
  const opened: Deno.Conn[] = [];
  try {
    await fn(port, events);
  } finally {
    for (const conn of opened) conn.close();
    await listener.shutdown();
  }
}

const connect = (port: number) => Deno.connect({ hostname: "127.0.0.1", port });
const ok = () => new Response("ok");

Deno.test("listen() closes connections that hold a descriptor without making progress", async (t) => {
  await withListener(ok, async (port) => {
    await t.step("a connection that sends nothing is closed after the header timeout", async () => {
      const conn = await connect(port);
      assert.deepEqual(await readToEnd(conn), { text: "", closed: true });
      conn.close();
    });
    await t.step("a request head sent halfway (slowloris) is closed after the header timeout", async () => {
      const conn = await connect(port);
      await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "));
      assert.deepEqual(await readToEnd(conn), { text: "", closed: true });
      conn.close();
    });
    await t.step("a keep-alive connection is answered, then closed once idle past the idle timeout", async () => {
      const conn = await connect(port);
      await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      const seen = await readToEnd(conn);
      assert.match(seen.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
      assert.ok(seen.closed);
      conn.close();
    });
  });
});

/** A handler that reads the whole body, answering the edge's error response when that fails. */
async function readingHandler(request: Request): Promise<Response> {
  try {
    await readBody(request);
    return ok();
  } catch (error) {
    return errorResponse({ requestId: "r", report: () => {} }, error);
  }
}

Deno.test("listen() answers a body that does not arrive in time with 408 and closes the connection", async () => {
  await withListener(readingHandler, async (port) => {
    const conn = await connect(port);
    await conn.write(
      encoder.encode("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"),
    );
    const seen = await readToEnd(conn);
    assert.match(seen.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(seen.text, /"error":"request_timeout"/);
    assert.ok(seen.closed, "the rest of the body is never waited for");
    conn.close();
  });
});

Deno.test("listen() reads a body of announced length that arrives in parts within the time, on a kept connection", async () => {
  const echo = async (request: Request) => {
    try {
      return new Response(new TextDecoder().decode(await readBody(request)));
    } catch (error) {
      return errorResponse({ requestId: "r", report: () => {} }, error);
    }
  };
  await withListener(echo, async (port) => {
    const conn = await connect(port);
    await conn.write(encoder.encode("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The rest of the body, and the next request on the same connection right behind it.
    await conn.write(encoder.encode(" world" + "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"));
    const seen = await readToEnd(conn);
    const answers = seen.text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, seen.text);
    assert.match(answers[0]!, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello world$/);
    assert.match(answers[1]!, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
    conn.close();
  });
});

Deno.test("listen(): a request that says both Content-Length and Transfer-Encoding is the parser's 400, no handler runs", async () => {
  let handled = 0;
  const counting = (request: Request) => {
    handled++;
    return readingHandler(request);
  };
  await withListener(counting, async (port) => {
    const conn = await connect(port);
    // A chunked body of 200,000 bytes announced; the 5 of Content-Length would pass the size check.
    await conn.write(encoder.encode(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${
        (200_000).toString(16)
      }\r\n`,
    ));
    const seen = await readToEnd(conn);
    assert.match(seen.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(seen.closed);
    assert.equal(handled, 0, "the request never reached a handler");
    conn.close();
  });
});

Deno.test("listen() refuses an oversized body with 413 and closes without reading it, Expect: 100-continue or not", async (t) => {
  await withListener(readingHandler, async (port) => {
    for (const expect of [false, true]) {
      await t.step(expect ? "with Expect: 100-continue" : "without Expect", async () => {
        const conn = await connect(port);
        await conn.write(encoder.encode(
          `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n${expect ? "Expect: 100-continue\r\n" : ""}\r\n`,
        ));
        const seen = await readToEnd(conn, 3000);
        assert.match(seen.text, /HTTP\/1\.1 413 Payload Too Large\r\n/);
        assert.match(seen.text, /connection: close/i);
        assert.ok(seen.closed, "closed at once, not after 100 MB");
        conn.close();
      });
    }
  }, { ...LIMITS, headerTimeoutMs: 60_000, idleTimeoutMs: 60_000, bodyTimeoutMs: 60_000 });
});

Deno.test("listen() past the cap: silent connections make room for a new client, and a client served before keeps its connection", async (t) => {
  const limits = { ...LIMITS, maxConnections: 4, headerTimeoutMs: 60_000, idleTimeoutMs: 60_000 };
  await withListener(ok, async (port) => {
    const client = Deno.createHttpClient({});
    const silent: Deno.Conn[] = [];
    try {
      await t.step(
        "a keep-alive client served before the flood is still served after 20 silent connections",
        async () => {
          assert.equal(await (await fetch(`http://127.0.0.1:${port}/`, { client })).text(), "ok");
          for (let i = 0; i < 20; i++) silent.push(await connect(port));
          assert.equal(await (await fetch(`http://127.0.0.1:${port}/`, { client })).text(), "ok");
        },
      );
      await t.step("a new client gets through too: the oldest silent connections were closed for it", async () => {
        assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "ok");
        const closed = await Promise.all(silent.slice(0, 10).map((conn) => readToEnd(conn, 2000)));
        assert.ok(closed.every((seen) => seen.closed && seen.text === ""));
      });
    } finally {
      for (const conn of silent) conn.close();
      client.close();
    }
  }, limits);
});

Deno.test("listen() past the cap with every slot serving a request: the new connection gets 503 and is closed", async () => {
  const limits = { ...LIMITS, maxConnections: 4, headerTimeoutMs: 60_000, idleTimeoutMs: 60_000 };
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let slowInFlight = 0;
  const handler = async () => {
    slowInFlight++;
    await gate;
    return ok();
  };
  await withListener(handler, async (port, events) => {
    const clients = Array.from({ length: 4 }, () => Deno.createHttpClient({}));
    try {
      const slow = clients.map((client) => fetch(`http://127.0.0.1:${port}/slow`, { client }).then((r) => r.text()));
      for (let i = 0; i < 500 && slowInFlight < 4; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(slowInFlight, 4, "four requests hold the four slots");
      const conn = await connect(port);
      const seen = await readToEnd(conn, 2000);
      conn.close();
      assert.match(seen.text, /^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*"error":"overloaded"/);
      assert.ok(seen.closed);
      release();
      assert.deepEqual(await Promise.all(slow), ["ok", "ok", "ok", "ok"], "the four in flight are answered");
      assert.ok(events.some((event) => event.event === "connections_shed"));
    } finally {
      release();
      for (const client of clients) client.close();
    }
  }, limits);
});

Deno.test("shutdown() lets the request in flight finish and closes idle connections", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let port = 0;
  const listener = listen({
    hostname: "127.0.0.1",
    port: 0,
    limits: { ...LIMITS, headerTimeoutMs: 60_000, idleTimeoutMs: 60_000 },
    onListen: (addr) => (port = addr.port),
  }, async () => (await gate, ok()));
  const idle = await connect(port);
  const inFlight = fetch(`http://127.0.0.1:${port}/`).then((response) => response.text());
  await new Promise((resolve) => setTimeout(resolve, 50));
  const stopped = listener.shutdown();
  assert.deepEqual(await readToEnd(idle, 2000), { text: "", closed: true });
  release();
  assert.equal(await inFlight, "ok");
  await stopped;
  idle.close();
  await assert.rejects(connect(port), "no longer accepting");
});
