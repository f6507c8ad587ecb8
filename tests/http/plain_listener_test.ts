import assert from "node:assert/strict";
import type { ListenerEvent } from "../../lib/http/connections.ts";
import { plainServe, throttled } from "../../lib/http/plain_listener.ts";

Deno.test("plainServe() serves with Deno.serve, says limits are unavailable, and stops on shutdown()", async () => {
  const events: ListenerEvent[] = [];
  let port = 0;
  const listener = plainServe(
    {
      hostname: "127.0.0.1",
      port: 0,
      limits: { maxConnections: 1, headerTimeoutMs: 100, idleTimeoutMs: 100, bodyTimeoutMs: 100 },
      onListen: (addr) => (port = addr.port),
    },
    () => new Response("plain"),
    (event) => events.push(event),
  );
  try {
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "plain");
    assert.equal(listener.stats(), null, "no connection figures without per-connection serving");
    assert.deepEqual(events.map((event) => event.event), ["connection_limits_unavailable"]);
  } finally {
    await listener.shutdown();
  }
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
});

Deno.test("throttled() passes each kind of event at most once per interval", () => {
  const seen: string[] = [];
  const emit = throttled((event) => seen.push(event.event), 60_000);
  emit({ event: "connections_shed", open: 1, shed: 1, evicted: 0 });
  emit({ event: "connections_shed", open: 2, shed: 2, evicted: 0 });
  emit({ event: "descriptors_exhausted", open: 2, closed: 1 });
  assert.deepEqual(seen, ["connections_shed", "descriptors_exhausted"]);
});
