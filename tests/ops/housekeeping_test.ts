import assert from "node:assert/strict";
import { housekeeping } from "../../lib/ops/housekeeping.ts";
import { captureLog, testClock } from "../support/helpers.ts";

/** A store whose `auth_logs` holds `rows` rows older than any retention. */
function fakeStore(rows: number) {
  const calls = { checkpoints: 0, prunes: [] as number[], fail: false };
  let left = rows;
  return {
    calls,
    store: {
      checkpoint() {
        calls.checkpoints++;
        return calls.fail ? Promise.reject(new Error("disk I/O error")) : Promise.resolve();
      },
      pruneLogins(before: number, limit: number) {
        calls.prunes.push(before);
        const n = Math.min(left, limit);
        left -= n;
        return Promise.resolve(n);
      },
    },
  };
}

Deno.test("housekeeping checkpoints once a minute and prunes a backlog in batches across ticks", async (t) => {
  const clock = testClock();
  const log = captureLog(clock);
  const { store, calls } = fakeStore(2_500);
  const step = housekeeping({ store, clock, log, authLogRetention: 90 * 86_400, batch: 100, maxBatches: 10 });
  await t.step("each tick deletes at most maxBatches × batch rows, the backlog goes on at the next tick", async () => {
    await step();
    assert.equal(calls.prunes.length, 10);
    assert.equal(calls.prunes[0], clock() - 90 * 86_400_000, "rows older than the retention");
    await step();
    await step();
    assert.equal(calls.prunes.length, 26, "25 full batches, then one that finds nothing");
    const pruned = log.lines.filter((line) => line.msg === "auth_logs_pruned");
    assert.deepEqual(pruned.map((line) => line.deleted), [1000, 1000, 500]);
    assert.deepEqual(pruned.map((line) => line.backlog), [true, true, false]);
  });
  await t.step("once caught up, it looks again a minute later; a checkpoint runs every minute", async () => {
    await step();
    assert.equal(calls.prunes.length, 26);
    assert.equal(calls.checkpoints, 0);
    clock.advance(60_000);
    await step();
    assert.equal(calls.prunes.length, 27);
    assert.equal(calls.checkpoints, 1);
  });
  await t.step("a failure is logged once and the next success says it recovered", async () => {
    calls.fail = true;
    clock.advance(60_000);
    await step();
    clock.advance(60_000);
    await step();
    calls.fail = false;
    clock.advance(60_000);
    await step();
    assert.deepEqual(
      log.lines.filter((line) => String(line.msg).startsWith("housekeeping")).map((line) => line.msg),
      ["housekeeping_failed", "housekeeping_recovered"],
    );
  });
});

Deno.test("with the retention off, auth_logs rows are kept forever", async () => {
  const clock = testClock();
  const { store, calls } = fakeStore(10);
  const step = housekeeping({ store, clock, log: captureLog(clock), authLogRetention: null });
  await step();
  clock.advance(120_000);
  await step();
  assert.deepEqual(calls.prunes, []);
  assert.equal(calls.checkpoints, 1);
});
