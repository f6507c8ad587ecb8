import assert from "node:assert/strict";
import { DEFAULT_BACKOFF, LoginBackoff } from "../../lib/users/backoff.ts";
import { T0 } from "../support/helpers.ts";

const alice = { username: "alice", ip: "192.0.2.1" };
const at = (username: string, ip = "192.0.2.1") => ({ username, ip });

Deno.test("backoff per username and IP is exponential, capped and reset by a success", async (t) => {
  const policy = { freeFailures: 2, baseMs: 1000, maxMs: 8000, maxEntries: 100 };
  await t.step("free failures, then 1 s, 2 s, 4 s, 8 s, 8 s", () => {
    const backoff = new LoginBackoff(policy);
    let now = T0;
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      backoff.fail(alice, now);
      waits.push(backoff.waitMs(alice, now));
      now += backoff.waitMs(alice, now);
    }
    assert.deepEqual(waits, [0, 0, 1000, 2000, 4000, 8000, 8000]);
    backoff.succeed(alice);
    assert.equal(backoff.waitMs(alice, now), 0);
  });
  await t.step("failures from one IP never lock the same username out for another IP", () => {
    const backoff = new LoginBackoff(policy);
    for (let i = 0; i < 20; i++) backoff.fail(at("alice", "203.0.113.66"), T0);
    assert.ok(backoff.waitMs(at("alice", "203.0.113.66"), T0) > 0, "the attacker's IP is locked");
    assert.equal(backoff.waitMs(at("alice", "192.0.2.1"), T0), 0, "alice's own IP may try");
    assert.equal(backoff.waitMs(at("bob", "203.0.113.66"), T0), 0, "and another username from the attacker's IP");
  });
});

Deno.test("a lockout lasts exactly its wait and shrinks as the clock moves", () => {
  const backoff = new LoginBackoff({ freeFailures: 0, baseMs: 1000, maxMs: 60_000, maxEntries: 10 });
  const bob = at("bob");
  backoff.fail(bob, T0);
  assert.equal(backoff.waitMs(bob, T0), 1000);
  assert.equal(backoff.waitMs(bob, T0 + 400), 600);
  assert.equal(backoff.waitMs(bob, T0 + 1000), 0, "free to try again at the end of the wait");
  assert.equal(backoff.waitMs(bob, T0 + 5000), 0, "never negative");
  assert.equal(backoff.waitMs(at("nobody"), T0), 0, "an unknown username may try");
  backoff.fail(bob, T0 + 1000);
  assert.equal(backoff.waitMs(bob, T0 + 1000), 2000, "the second failure doubles the wait");
});

Deno.test("the wait never exceeds the cap, however many failures pile up", () => {
  const backoff = new LoginBackoff({ freeFailures: 1, baseMs: 500, maxMs: 3000, maxEntries: 10 });
  for (let i = 0; i < 200; i++) backoff.fail(at("carol"), T0);
  assert.equal(backoff.waitMs(at("carol"), T0), 3000);
});

Deno.test("memory is bounded, and no flood of other names ends a running lock", async (t) => {
  const policy = { freeFailures: 2, baseMs: 60_000, maxMs: 900_000, maxEntries: 100 };
  await t.step("10,000 other failed names keep the table at its bound", () => {
    const backoff = new LoginBackoff(policy);
    for (let i = 0; i < 10_000; i++) backoff.fail(at(`user${i}`), T0);
    assert.equal(backoff.size, 100);
  });
  await t.step("a running lock survives 10,000 failures of other names from the same IP", () => {
    const backoff = new LoginBackoff(policy);
    for (let i = 0; i < 3; i++) backoff.fail(alice, T0);
    const wait = backoff.waitMs(alice, T0);
    assert.ok(wait > 0);
    for (let i = 0; i < 10_000; i++) backoff.fail(at(`user${i}`), T0 + 1);
    assert.equal(backoff.waitMs(alice, T0 + 1), wait - 1, "still locked, for the same time");
  });
  await t.step("entries that never locked go first, then lapsed locks; running locks never", () => {
    const backoff = new LoginBackoff({ ...policy, maxEntries: 3 });
    for (let i = 0; i < 3; i++) backoff.fail(at("locked"), T0);
    for (let i = 0; i < 3; i++) backoff.fail(at("lapsing"), T0 - 120_000);
    backoff.fail(at("once"), T0);
    backoff.fail(at("new1"), T0);
    assert.equal(backoff.waitMs(at("once"), T0), 0, "the one that never locked was forgotten");
    backoff.fail(at("new2"), T0);
    assert.ok(backoff.waitMs(at("locked"), T0) > 0);
    assert.equal(backoff.size, 3);
  });
  await t.step("among entries that never locked, the least recently failed one goes first", () => {
    const backoff = new LoginBackoff({ ...policy, maxEntries: 2 });
    backoff.fail(at("a"), T0);
    backoff.fail(at("b"), T0);
    backoff.fail(at("a"), T0 + 1); // a failed last now: b is the oldest
    backoff.fail(at("c"), T0 + 2); // makes room by forgetting b
    backoff.fail(at("a"), T0 + 3); // a's third failure: locked only if its first two were kept
    assert.ok(backoff.waitMs(at("a"), T0 + 3) > 0, "a kept its failures");
  });
  await t.step(
    "when every entry is a running lock, a new pair is not tracked (and counted), nothing is dropped",
    () => {
      const backoff = new LoginBackoff({ ...policy, maxEntries: 2 });
      for (const name of ["a", "b"]) for (let i = 0; i < 3; i++) backoff.fail(at(name), T0);
      backoff.fail(at("c"), T0);
      assert.equal(backoff.untracked, 1);
      assert.ok(backoff.waitMs(at("a"), T0) > 0 && backoff.waitMs(at("b"), T0) > 0);
    },
  );
});

Deno.test("the default policy is 5 free failures, then 1 s doubling up to 15 min, for 10,000 pairs", () => {
  assert.deepEqual({ ...DEFAULT_BACKOFF }, { freeFailures: 5, baseMs: 1000, maxMs: 900_000, maxEntries: 10_000 });
  const backoff = new LoginBackoff();
  for (let i = 0; i < 5; i++) backoff.fail(at("dave"), T0);
  assert.equal(backoff.waitMs(at("dave"), T0), 0);
  backoff.fail(at("dave"), T0);
  assert.equal(backoff.waitMs(at("dave"), T0), 1000);
});

Deno.test("a success forgets the username's failures: the free ones start again", () => {
  const backoff = new LoginBackoff({ freeFailures: 1, baseMs: 1000, maxMs: 8000, maxEntries: 10 });
  backoff.fail(at("erin"), T0);
  backoff.fail(at("erin"), T0);
  assert.equal(backoff.waitMs(at("erin"), T0), 1000);
  backoff.succeed(at("erin"));
  assert.equal(backoff.size, 0, "nothing is kept about erin");
  assert.equal(backoff.waitMs(at("erin"), T0), 0);
  backoff.fail(at("erin"), T0);
  assert.equal(backoff.waitMs(at("erin"), T0), 0, "the first failure after a success is free again");
});
