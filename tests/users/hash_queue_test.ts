import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { type Hasher, HashQueue } from "../../lib/users/hash_queue.ts";

/** A hasher whose hashes wait until the test releases them, counting how many run at once. */
function gatedHasher() {
  const seen = { running: 0, peak: 0 };
  const releases: (() => void)[] = [];
  const hasher: Hasher = {
    hash: async () => {
      seen.peak = Math.max(seen.peak, ++seen.running);
      await new Promise<void>((resolve) => releases.push(resolve));
      seen.running--;
      return "h";
    },
    verify: () => Promise.resolve(true),
  };
  return { hasher, releases, seen };
}

/** Queues one hash per `[password, client]`, in order. */
function enqueue(queue: HashQueue, jobs: [string, string][]): Promise<string>[] {
  return jobs.map(([password, client]) => queue.hash(password, { client }));
}

const overloaded = (e: AppError) => e.code === "overloaded";
Deno.test("HashQueue caps concurrent hashing and refuses work beyond its queue", async () => {
  const { hasher, releases, seen } = gatedHasher();
  const queue = new HashQueue(hasher, { concurrency: 2, maxQueue: 3 });
  const accepted = Array.from({ length: 5 }, () => queue.hash("pw"));
  await assert.rejects(queue.hash("pw"), (e: AppError) => e.code === "overloaded" && e.retryAfter === 1);
  assert.equal(queue.rejected, 1);
  assert.equal(queue.running, 2);
  assert.equal(queue.depth, 3);
  while (releases.length > 0 || queue.running > 0) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    releases.shift()?.();
  }
  assert.deepEqual(await Promise.all(accepted), ["h", "h", "h", "h", "h"]);
  assert.equal(seen.peak, 2, "never more than the cap at once");
  assert.equal(queue.completed, 5);
  assert.equal(queue.depth, 0);
  assert.equal(await queue.verify("h", "pw"), true);
});

Deno.test("a slot handed to a waiter is still taken: work arriving then waits for it", async () => {
  const { hasher, releases, seen } = gatedHasher();
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  const queue = new HashQueue(hasher, { concurrency: 1, maxQueue: 5 });
  const first = queue.hash("a");
  const second = queue.hash("b");
  await tick();
  assert.deepEqual([queue.running, queue.depth], [1, 1]);
  releases.shift()!(); // the first finishes and hands its slot to the second
  await first;
  await tick();
  assert.deepEqual([queue.running, queue.depth], [1, 0], "the second runs in the first one's slot");
  const third = queue.hash("c");
  await tick();
  assert.deepEqual([queue.running, queue.depth], [1, 1], "the third waits: the slot is taken");
  releases.shift()!();
  await second;
  await tick();
  releases.shift()!();
  await third;
  assert.equal(seen.peak, 1, "never two at once");
  assert.deepEqual([queue.running, queue.depth, queue.completed], [0, 0, 3]);
});

/** A hasher whose calls wait until the test releases them, in order, recording whose they were. */
function gated() {
  const order: string[] = [];
  const releases: (() => void)[] = [];
  const hasher: Hasher = {
    hash: async (password) => {
      await new Promise<void>((resolve) => releases.push(resolve));
      order.push(password);
      return password;
    },
    verify: () => Promise.resolve(true),
  };
  const drain = async (queue: HashQueue) => {
    while (releases.length > 0 || queue.running > 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      releases.shift()?.();
    }
  };
  return { hasher, order, drain };
}

Deno.test("HashQueue shares the slots between clients in turn, whatever one client sends", async (t) => {
  await t.step("waiting work is served round-robin by client, not in arrival order", async () => {
    const { hasher, order, drain } = gated();
    const queue = new HashQueue(hasher, { concurrency: 1, maxQueue: 64, maxPerClient: 10 });
    const work = [
      ...Array.from({ length: 4 }, (_, i) => queue.hash(`flood${i}`, { client: "203.0.113.1" })),
      queue.hash("alice", { client: "192.0.2.7" }),
    ];
    await drain(queue);
    await Promise.all(work);
    assert.deepEqual(order, ["flood0", "alice", "flood1", "flood2", "flood3"], "alice waits for one turn, not four");
  });
  await t.step("one client may have at most maxPerClient waiting; others still get in", async () => {
    const { hasher, drain } = gated();
    const queue = new HashQueue(hasher, { concurrency: 1, maxQueue: 64, maxPerClient: 2 });
    const accepted = enqueue(queue, [["running", "a"], ["w1", "a"], ["w2", "a"]]);
    await assert.rejects(queue.hash("w3", { client: "a" }), overloaded);
    accepted.push(queue.hash("b1", { client: "b" }));
    assert.equal(queue.depth, 3);
    assert.equal(queue.clients, 2);
    await drain(queue);
    assert.equal((await Promise.all(accepted)).length, 4);
  });
  await t.step(
    "a full backlog makes room for a new client by refusing the newest work of the busiest one",
    async () => {
      const { hasher, drain } = gated();
      const queue = new HashQueue(hasher, { concurrency: 1, maxQueue: 4, maxPerClient: 4 });
      const flood = [queue.hash("r", { client: "flood" })];
      for (let i = 0; i < 4; i++) flood.push(queue.hash(`f${i}`, { client: "flood" }));
      const outcomes = Promise.allSettled(flood);
      const alice = queue.hash("alice", { client: "alice" });
      assert.equal(queue.depth, 4);
      await drain(queue);
      assert.equal(await alice, "alice");
      const settled = await outcomes;
      assert.deepEqual(settled.map((outcome) => outcome.status), [
        "fulfilled",
        "fulfilled",
        "fulfilled",
        "fulfilled",
        "rejected",
      ]);
      assert.equal(queue.rejected, 1);
    },
  );
  await t.step("by default a client alone may use the whole backlog", async () => {
    const { hasher, drain } = gated();
    const queue = new HashQueue(hasher, { concurrency: 1, maxQueue: 8 });
    assert.equal(queue.maxPerClient, 8);
    const work = Promise.allSettled(Array.from({ length: 9 }, (_, i) => queue.hash(`w${i}`, { client: "grader" })));
    await assert.rejects(queue.hash("w9", { client: "grader" }), overloaded);
    const newcomer = queue.hash("other", { client: "other" });
    await drain(queue);
    assert.equal(await newcomer, "other", "and a newcomer still gets in");
    const settled = await work;
    assert.equal(settled.filter((outcome) => outcome.status === "rejected").length, 1, "the grader's newest made room");
  });
  await t.step("a client that already has its share cannot push another out", async () => {
    const { hasher, drain } = gated();
    const queue = new HashQueue(hasher, { concurrency: 1, maxQueue: 2, maxPerClient: 4 });
    const work = enqueue(queue, [["r", "a"], ["a1", "a"], ["b1", "b"]]);
    await assert.rejects(queue.hash("b2", { client: "b" }), overloaded);
    await drain(queue);
    assert.equal((await Promise.all(work)).length, 3);
  });
});
