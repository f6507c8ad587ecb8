import assert from "node:assert/strict";
import { argon2Hasher } from "../../lib/users/argon2.ts";
import { type Hasher } from "../../lib/users/hash_queue.ts";
import { WorkerHasher, type WorkerState } from "../../lib/users/hash_worker.ts";

/** The real hasher, counting the calls it gets. */
function countingHasher(): Hasher & { calls: number } {
  const inner = argon2Hasher();
  const counting = {
    calls: 0,
    hash(password: string) {
      counting.calls++;
      return inner.hash(password);
    },
    verify(hash: string, password: string) {
      counting.calls++;
      return inner.verify(hash, password);
    },
  };
  return counting;
}

/** Niceness of each thread of this process, or null where /proc is not available. */
function threadNiceness(): number[] | null {
  try {
    return [...Deno.readDirSync("/proc/self/task")].map((task) => {
      const stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    });
  } catch {
    return null;
  }
}

Deno.test("WorkerHasher hashes and verifies in a thread below the request thread's priority", async (t) => {
  const fallback = countingHasher();
  const states: unknown[] = [];
  const hasher = new WorkerHasher({ fallback, onState: (state) => states.push(state) });
  try {
    assert.deepEqual(await hasher.started, { state: "ready", niced: true });
    const password = crypto.randomUUID();

    await t.step("a hash made there verifies, and a wrong password does not", async () => {
      const hash = await hasher.hash(password);
      assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.equal(await hasher.verify(hash, password), true);
      assert.equal(await hasher.verify(hash, "wrong"), false);
      assert.equal(await hasher.verify("not a hash", password), false, "a malformed hash never matches");
      assert.equal(fallback.calls, 0, "the fallback was not needed");
    });
    await t.step("the hashing threads run at niceness 10 and the request thread at 0", () => {
      const niceness = threadNiceness();
      if (niceness === null) return;
      assert.ok(niceness.includes(10), `some thread is niced: ${niceness}`);
      const own = Deno.readTextFileSync("/proc/thread-self/stat");
      assert.equal(Number(own.slice(own.lastIndexOf(")") + 2).split(" ")[16]), 0);
    });
    await t.step("onState hears once that the worker is ready", () => {
      assert.deepEqual(states, [{ state: "ready", niced: true }]);
    });
  } finally {
    hasher.close();
  }
});

Deno.test("WorkerHasher uses the fallback until its worker is ready and after close()", async () => {
  const fallback = countingHasher();
  const hasher = new WorkerHasher({ fallback });
  const hash = await hasher.hash("early");
  assert.equal(fallback.calls, 1, "the worker was still starting");
  await hasher.started;
  assert.equal(await hasher.verify(hash, "early"), true);
  assert.equal(fallback.calls, 1);
  const inFlight = hasher.verify(hash, "early");
  hasher.close();
  assert.equal(await inFlight, true, "work in flight is finished by the fallback");
  assert.equal(await hasher.verify(hash, "early"), true);
  assert.equal(fallback.calls, 3);
});

Deno.test("a lazy WorkerHasher starts its worker with the first call after arm()", async () => {
  const fallback = countingHasher();
  const states: WorkerState[] = [];
  const hasher = new WorkerHasher({ fallback, lazy: true, onState: (state) => states.push(state) });
  try {
    const hash = await hasher.hash("start-up work");
    assert.equal(fallback.calls, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(states, [], "not started by start-up work");
    hasher.arm();
    assert.equal(await hasher.verify(hash, "start-up work"), true, "the first login, by the fallback");
    assert.equal((await hasher.started).state, "ready");
    assert.equal(await hasher.verify(hash, "start-up work"), true);
    assert.equal(fallback.calls, 2, "later logins go to the worker");
  } finally {
    hasher.close();
  }
});

Deno.test("WorkerHasher whose worker cannot start hands everything to the fallback", async () => {
  const fallback = countingHasher();
  const broken = new URL("data:text/javascript,throw new Error('cannot start')");
  const hasher = new WorkerHasher({ fallback, module: broken });
  try {
    const state = await hasher.started;
    assert.equal(state.state, "failed");
    const hash = await hasher.hash("pw");
    assert.equal(await hasher.verify(hash, "pw"), true);
    assert.equal(fallback.calls, 2);
  } finally {
    hasher.close();
  }
});
