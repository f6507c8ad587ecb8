import assert from "node:assert/strict";
import { runCrash } from "../../torture/crash.ts";
import { seedFrom } from "../../torture/prng.ts";
import { scenario } from "../support/server_process.ts";

scenario("after SIGKILL at random moments under load, nothing promised is lost and exactly one key signs", async () => {
  const seed = seedFrom(Deno.env.toObject(), 20261122);
  console.log(`crash seed ${seed} (replay: SEED=${seed} deno task test tests/e2e/crash_test.ts)`);
  const report = await runCrash({ rounds: 10, seed, opsBeforeKill: [5, 60] });
  assert.deepEqual(report.failures, [], `seed ${seed}`);
  assert.equal(report.rounds, 10);
  assert.ok(report.loadKills >= 5, "most kills land under load");
  assert.ok(report.registered >= 2 * report.loadKills, "every load phase registered users before its kill");
  assert.equal(report.finalLogins, report.registered, "every one of them logs in at the end");
  assert.ok(report.tokensChecked > 0, "tokens issued before kills were checked after restarts");
  assert.equal(report.integrityChecks, 11);
});
