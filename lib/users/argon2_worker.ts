/**
 * Worker entry of {@linkcode WorkerHasher} (see `hash_worker.ts`): lowers this thread's OS
 * priority once, then hashes and verifies with `argon2Hasher()`. The native hashing threads that
 * `@node-rs/argon2` spawns from here inherit the lower priority, so Argon2 only gets the CPU the
 * request thread leaves. Speaks a tiny message protocol and nothing else.
 * @module
 */
import { setPriority } from "node:os";
import { argon2Hasher } from "./argon2.ts";
import type { HashReply, HashRequest, WorkerInit } from "./hash_worker.ts";

/** The worker's global scope, typed without pulling the worker lib into the main program. */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerInit | HashRequest>) => void) | null;
  postMessage(message: unknown): void;
};

let hasher = argon2Hasher();

async function answer(request: HashRequest): Promise<HashReply> {
  try {
    const value = request.op === "hash"
      ? await hasher.hash(request.password)
      : await hasher.verify(request.hash, request.password);
    return { id: request.id, value };
  } catch (error) {
    // Only the error's name crosses over: a message could echo its input.
    return { id: request.id, error: error instanceof Error ? error.name : "Error" };
  }
}

scope.onmessage = async ({ data }) => {
  if ("init" in data) {
    hasher = argon2Hasher(data.init.argon2);
    let niced = false;
    try {
      setPriority(0, data.init.nice);
      niced = true;
    } catch {
      // Not permitted or not supported here: hash at normal priority.
    }
    scope.postMessage({ ready: { niced } });
    return;
  }
  scope.postMessage(await answer(data));
};
