import assert from "node:assert/strict";
import { oauthPurger } from "../../lib/oauth/purge.ts";
import { captureLog, testClock } from "../support/helpers.ts";

Deno.test("the OAuth purge runs at most once per interval, logs what it removed, and survives a failure", async () => {
  const clock = testClock();
  const log = captureLog(clock);
  const calls: number[] = [];
  let fail = false;
  const store = {
    purgeOAuth(now: number) {
      calls.push(now);
      if (fail) return Promise.reject(new Error("disk full"));
      return Promise.resolve({ revokedJtis: 1, refreshTokens: 0, grants: 0, codes: 0 });
    },
  };
  const purge = oauthPurger(store, { clock, log, everyMs: 60_000 });
  await purge();
  await purge();
  assert.deepEqual(calls, [clock() / 1000], "the second tick inside the interval does nothing");
  assert.equal(log.lines.at(-1)?.msg, "oauth_purged");
  clock.advance(60_000);
  fail = true;
  await purge();
  assert.equal(log.lines.at(-1)?.msg, "oauth_purge_failed");
  clock.advance(60_000);
  fail = false;
  await purge();
  assert.equal(calls.length, 3, "retried at the next interval");
});
