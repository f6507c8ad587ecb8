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
