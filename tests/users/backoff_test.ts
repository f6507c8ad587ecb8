import assert from "node:assert/strict";
import { DEFAULT_BACKOFF, LoginBackoff } from "../../lib/users/backoff.ts";
import { T0 } from "../support/helpers.ts";

Deno.test("per-username backoff is exponential, capped and reset by a success", async (t) => {
  const policy = { freeFailures: 2, baseMs: 1000, maxMs: 8000, maxEntries: 100 };
  await t.step("free failures, then 1 s, 2 s, 4 s, 8 s, 8 s", () => {
    const backoff = new LoginBackoff(policy);
    let now = T0;
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      backoff.fail("alice", now);
      waits.push(backoff.waitMs("alice", now));
      now += backoff.waitMs("alice", now);
    }
    assert.deepEqual(waits, [0, 0, 1000, 2000, 4000, 8000, 8000]);
    backoff.succeed("alice");
    assert.equal(backoff.waitMs("alice", now), 0);
  });
  await t.step("memory is bounded: the least recently failed usernames are forgotten", () => {
    const backoff = new LoginBackoff({ ...policy, maxEntries: 1000 });
    for (let i = 0; i < 5000; i++) backoff.fail(`user${i}`, T0);
    assert.equal(backoff.size, 1000);
    assert.equal(DEFAULT_BACKOFF.freeFailures, 5);
  });
});

Deno.test("a lockout lasts exactly its wait and shrinks as the clock moves", () => {
  const backoff = new LoginBackoff({ freeFailures: 0, baseMs: 1000, maxMs: 60_000, maxEntries: 10 });
  backoff.fail("bob", T0);
  assert.equal(backoff.waitMs("bob", T0), 1000);
  assert.equal(backoff.waitMs("bob", T0 + 400), 600);
  assert.equal(backoff.waitMs("bob", T0 + 1000), 0, "free to try again at the end of the wait");
  assert.equal(backoff.waitMs("bob", T0 + 5000), 0, "never negative");
  assert.equal(backoff.waitMs("nobody", T0), 0, "an unknown username may try");
  backoff.fail("bob", T0 + 1000);
  assert.equal(backoff.waitMs("bob", T0 + 1000), 2000, "the second failure doubles the wait");
});

Deno.test("the wait never exceeds the cap, however many failures pile up", () => {
  const backoff = new LoginBackoff({ freeFailures: 1, baseMs: 500, maxMs: 3000, maxEntries: 10 });
  for (let i = 0; i < 200; i++) backoff.fail("carol", T0);
  assert.equal(backoff.waitMs("carol", T0), 3000);
});

Deno.test("eviction forgets the least recently failed username, not the first one seen", () => {
  const backoff = new LoginBackoff({ freeFailures: 0, baseMs: 1000, maxMs: 60_000, maxEntries: 3 });
  for (const name of ["a", "b", "c"]) backoff.fail(name, T0);
  backoff.fail("a", T0 + 10); // a failed again: now the most recent
  backoff.fail("d", T0 + 20);
  assert.equal(backoff.size, 3);
  assert.equal(backoff.waitMs("b", T0 + 20), 0, "b, the least recently failed, is forgotten");
  assert.ok(backoff.waitMs("a", T0 + 20) > 0, "a is still backing off");
  assert.ok(backoff.waitMs("c", T0 + 20) > 0);
  assert.ok(backoff.waitMs("d", T0 + 20) > 0);
});

Deno.test("the default policy is 5 free failures, then 1 s doubling up to 15 min, for 10,000 usernames", () => {
  assert.deepEqual({ ...DEFAULT_BACKOFF }, { freeFailures: 5, baseMs: 1000, maxMs: 900_000, maxEntries: 10_000 });
  const backoff = new LoginBackoff();
  for (let i = 0; i < 5; i++) backoff.fail("dave", T0);
  assert.equal(backoff.waitMs("dave", T0), 0);
  backoff.fail("dave", T0);
  assert.equal(backoff.waitMs("dave", T0), 1000);
});

Deno.test("a success forgets the username's failures: the free ones start again", () => {
  const backoff = new LoginBackoff({ freeFailures: 1, baseMs: 1000, maxMs: 8000, maxEntries: 10 });
  backoff.fail("erin", T0);
  backoff.fail("erin", T0);
  assert.equal(backoff.waitMs("erin", T0), 1000);
  backoff.succeed("erin");
  assert.equal(backoff.size, 0, "nothing is kept about erin");
  assert.equal(backoff.waitMs("erin", T0), 0);
  backoff.fail("erin", T0);
  assert.equal(backoff.waitMs("erin", T0), 0, "the first failure after a success is free again");
});
