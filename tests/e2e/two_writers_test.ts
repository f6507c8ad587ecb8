import assert from "node:assert/strict";
import { seedFrom } from "../../torture/prng.ts";
import { runTwoWriters } from "../../torture/two_writers.ts";
import { scenario } from "../support/server_process.ts";

scenario(
  "two servers on one database file never have two active keys, see each other's kids within a tick, and never surface SQLITE_BUSY",
  async () => {
    const seed = seedFrom(Deno.env.toObject(), 20261122);
    console.log(`two writers seed ${seed} (replay: SEED=${seed} deno task test tests/e2e/two_writers_test.ts)`);
    const report = await runTwoWriters({ seconds: 10, seed, rotateMs: [1500, 2500] });
    assert.deepEqual(report.failures, [], `seed ${seed}`);
    assert.ok(report.rotations >= 1, "keys rotated under both servers");
    assert.ok(report.kids >= 3, "so there were new kids to propagate");
    assert.ok(report.registeredA > 0 && report.registeredB > 0, "both servers registered users");
    assert.ok(report.crossLogins > 0, "who logged in on the other server");
    assert.ok(report.tokensCrossVerified > 0, "with tokens that verify on the other server");
    assert.ok(report.activeChecks > 10);
    assert.equal(report.busyOr5xx, 0);
  },
);
