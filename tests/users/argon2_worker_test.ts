import assert from "node:assert/strict";
import { type HashReply, type HashRequest, type WorkerInit } from "../../lib/users/hash_worker.ts";

/** Runs the worker module and talks its protocol: one init, then requests answered by id. */
async function withWorker(fn: (send: (message: WorkerInit | HashRequest) => Promise<unknown>) => Promise<void>) {
  const worker = new Worker(new URL("../../lib/users/argon2_worker.ts", import.meta.url), { type: "module" });
  const replies: ((value: unknown) => void)[] = [];
  worker.onmessage = (event) => replies.shift()?.(event.data);
  try {
    await fn((message) => {
      const reply = new Promise((resolve) => replies.push(resolve));
      worker.postMessage(message);
      return reply;
    });
  } finally {
    worker.terminate();
  }
}

Deno.test("the Argon2 worker says it is ready, then hashes and verifies by request id", async () => {
  await withWorker(async (send) => {
    const ready = await send({ init: { nice: 5, argon2: {} } }) as { ready: { niced: boolean } };
    assert.equal(typeof ready.ready.niced, "boolean");
    const hashed = await send({ id: 7, op: "hash", password: "pw" }) as HashReply;
    assert.equal(hashed.id, 7);
    assert.match(String(hashed.value), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const good = await send({ id: 8, op: "verify", hash: String(hashed.value), password: "pw" });
    assert.deepEqual(good, { id: 8, value: true });
    const bad = await send({ id: 9, op: "verify", hash: String(hashed.value), password: "wrong" });
    assert.deepEqual(bad, { id: 9, value: false });
  });
});

Deno.test("the Argon2 worker answers a failure with the error's name only, never its message", async () => {
  await withWorker(async (send) => {
    await send({ init: { nice: 0, argon2: {} } });
    // A password that is not a string makes the native hasher throw.
    const reply = await send({ id: 1, op: "hash", password: 42 as unknown as string }) as HashReply;
    assert.equal(reply.id, 1);
    assert.equal(reply.value, undefined);
    assert.equal(typeof reply.error, "string");
    assert.ok(!String(reply.error).includes("42"));
  });
});
