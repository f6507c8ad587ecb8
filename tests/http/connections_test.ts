import assert from "node:assert/strict";
import {
  autoMaxConnections,
  CLOSING_GRACE_MS,
  type ConnectionLimits,
  ConnectionTable,
  DEFAULT_MAX_CONNECTIONS,
} from "../../lib/http/connections.ts";

const LIMITS: ConnectionLimits = { maxConnections: 3, headerTimeoutMs: 1000, idleTimeoutMs: 5000, bodyTimeoutMs: 1000 };

/** Plays connection events on `table`: each step is the event, the connection and the time. */
function play(table: ConnectionTable<string>, steps: readonly ["admit" | "started" | "finished", string, number][]) {
  for (const [event, name, at] of steps) table[event](name, at);
}

Deno.test("admit() takes connections up to the cap, then makes room from the oldest that sent nothing", async (t) => {
  await t.step("below the cap every connection is admitted and waits for its first request", () => {
    const table = new ConnectionTable<string>(LIMITS);
    for (const name of ["a", "b", "c"]) assert.deepEqual(table.admit(name, 0), { admitted: true, evicted: null });
    assert.equal(table.size, 3);
    assert.equal(table.count("waiting"), 3);
  });
  await t.step("at the cap the oldest waiting connection is evicted, before any idle one", () => {
    const table = new ConnectionTable<string>(LIMITS);
    play(table, [["admit", "idle", 0], ["started", "idle", 1], ["finished", "idle", 2], ["admit", "first-silent", 3], [
      "admit",
      "second-silent",
      4,
    ]]);
    assert.deepEqual(table.admit("new", 5), { admitted: true, evicted: "first-silent" });
    assert.equal(table.phaseOf("first-silent"), "closing");
    assert.equal(table.counts.evicted, 1);
  });
  await t.step("with no waiting connection the oldest idle keep-alive one makes room", () => {
    const table = new ConnectionTable<string>(LIMITS);
    for (const name of ["x", "y", "z"]) {
      table.admit(name, 0);
      table.started(name, 1);
    }
    table.finished("y", 2);
    table.finished("x", 3);
    assert.deepEqual(table.admit("new", 4), { admitted: true, evicted: "y" });
  });
  await t.step("when every connection is serving a request, the new one is shed and the others keep going", () => {
    const table = new ConnectionTable<string>(LIMITS);
    for (const name of ["x", "y", "z"]) {
      table.admit(name, 0);
      table.started(name, 1);
    }
    assert.deepEqual(table.admit("new", 2), { admitted: false, evicted: null });
    assert.equal(table.counts.shed, 1);
    assert.equal(table.phaseOf("new"), null);
    assert.deepEqual(["x", "y", "z"].map((name) => table.phaseOf(name)), ["busy", "busy", "busy"]);
  });
  await t.step(
    "closing connections are bounded: a flood cannot pile them up past an eighth of the cap (16 at least)",
    () => {
      const table = new ConnectionTable<number>({ ...LIMITS, maxConnections: 4 });
      for (let i = 0; i < 4; i++) table.admit(i, 0);
      let shed = 0;
      for (let i = 4; i < 100; i++) if (!table.admit(i, 0).admitted) shed++;
      assert.equal(table.count("closing"), 16);
      assert.equal(shed, 100 - 4 - 16);
      assert.equal(table.size, 20, "16 closing + the 4 newest");
    },
  );
});

Deno.test("due() closes connections that outlived the header or idle timeout, and cuts closing ones after the grace", async (t) => {
  const table = new ConnectionTable<string>(LIMITS);
  play(table, [["admit", "silent", 0], ["admit", "served", 0], ["started", "served", 10], ["finished", "served", 20], [
    "admit",
    "busy",
    0,
  ], ["started", "busy", 10]]);
  await t.step("a connection with no request after the header timeout is closed; others are left alone", () => {
    assert.deepEqual(table.due(999), { close: [], cut: [] });
    assert.deepEqual(table.due(1000), { close: ["silent"], cut: [] });
    assert.equal(table.counts.timedOut, 1);
  });
  await t.step("an idle keep-alive connection is closed once the idle timeout passed since its last answer", () => {
    assert.deepEqual(table.due(5019).close, []);
    assert.deepEqual(table.due(5020).close, ["served"]);
  });
  await t.step("a closing connection still open after the grace is cut", () => {
    assert.deepEqual(table.due(1000 + CLOSING_GRACE_MS).cut, ["silent"]);
  });
  await t.step("a connection serving a request is never timed out here (its body has its own limit)", () => {
    assert.equal(table.phaseOf("busy"), "busy");
    assert.deepEqual(table.due(1_000_000).close, []);
  });
  await t.step("release() forgets a connection whatever its phase", () => {
    for (const name of ["silent", "served", "busy"]) table.release(name);
    assert.equal(table.size, 0);
    assert.equal(table.count("closing"), 0);
  });
});

Deno.test("shed() frees descriptors from the oldest waiting, then idle connections, never busy ones", () => {
  const table = new ConnectionTable<string>({ ...LIMITS, maxConnections: 10 });
  play(table, [
    ["admit", "busy", 0],
    ["started", "busy", 0],
    ["admit", "idle", 1],
    ["started", "idle", 1],
    ["finished", "idle", 2],
    ["admit", "w1", 3],
    ["admit", "w2", 4],
  ]);
  assert.deepEqual(table.shed(3, 5), ["w1", "w2", "idle"]);
  assert.deepEqual(table.shed(3, 5), [], "closing ones are not chosen twice");
  assert.equal(table.phaseOf("busy"), "busy");
});

Deno.test("a keep-alive connection goes busy and idle with its requests, pipelined or multiplexed", () => {
  const table = new ConnectionTable<string>(LIMITS);
  table.admit("c", 0);
  table.started("c", 1);
  table.started("c", 1);
  table.finished("c", 2);
  assert.equal(table.phaseOf("c"), "busy", "one request is still in flight");
  table.finished("c", 3);
  assert.equal(table.phaseOf("c"), "idle");
  table.started("c", 4);
  assert.equal(table.phaseOf("c"), "busy");
  table.started("gone", 4);
  table.finished("gone", 4);
  assert.equal(table.phaseOf("gone"), null, "events of a released connection are ignored");
});

Deno.test("autoMaxConnections() leaves room under the descriptor limit", () => {
  assert.equal(autoMaxConnections(null), DEFAULT_MAX_CONNECTIONS);
  assert.equal(autoMaxConnections(256), 128);
  assert.equal(autoMaxConnections(1024), 896);
  assert.equal(autoMaxConnections(1_048_576), DEFAULT_MAX_CONNECTIONS);
  assert.equal(autoMaxConnections(100), 16, "never below 16");
});
