import assert from "node:assert/strict";
import { type LoginEvent } from "../../lib/store/ports.ts";
import { LoginLog } from "../../lib/users/login_log.ts";

function fakeStore() {
  const rows: LoginEvent[][] = [];
  let failing = false;
  return {
    rows,
    fail(on: boolean) {
      failing = on;
    },
    recordLogins(events: readonly LoginEvent[]) {
      if (failing) return Promise.reject(new Error("database or disk is full"));
      rows.push([...events]);
      return Promise.resolve();
    },
  };
}

const event = (i: number): LoginEvent => ({ userId: i, ip: "127.0.0.1", at: i });

Deno.test("record() never waits: logins queued in one tick are written in one transaction", async () => {
  const store = fakeStore();
  const log = new LoginLog(store);
  log.record(event(1));
  log.record(event(2));
  log.record(event(3));
  assert.equal(store.rows.length, 0, "nothing written synchronously");
  await Promise.resolve();
  await log.flush();
  assert.deepEqual(store.rows, [[event(1), event(2), event(3)]]);
  assert.equal(log.written, 3);
  assert.equal(log.pending, 0);
});

Deno.test("a failed write is reported and counted, and the rows are kept for the next flush", async () => {
  const store = fakeStore();
  const errors: number[] = [];
  const log = new LoginLog(store, { onError: (_, pending) => errors.push(pending) });
  store.fail(true);
  log.record(event(1));
  assert.equal(await log.flush(), false);
  assert.equal(log.failures, 1);
  assert.deepEqual(errors, [1]);
  assert.equal(log.pending, 1);
  store.fail(false);
  log.record(event(2));
  assert.equal(await log.flush(), true);
  assert.deepEqual(store.rows.flat(), [event(1), event(2)], "nothing lost, order kept");
});

Deno.test("the queue is bounded while writes fail and counts what it drops", async () => {
  const store = fakeStore();
  const log = new LoginLog(store, { maxQueue: 5 });
  store.fail(true);
  for (let i = 0; i < 8; i++) log.record(event(i));
  assert.equal(log.pending, 5);
  assert.equal(log.dropped, 3);
  await log.flush();
  store.fail(false);
  await log.flush();
  assert.deepEqual(store.rows.flat().map((e) => e.userId), [3, 4, 5, 6, 7], "the newest are kept");
});
