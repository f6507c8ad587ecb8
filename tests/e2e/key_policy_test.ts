/**
 * Settings that take effect, against the real program, replaying issue 15 as a user would: a
 * database made with the default 24 h rotation, restarted with `--rotate-every 2m`, rotates
 * every two minutes (after JWKS copies cached under the old max-age have expired), says what
 * changed, and `keys rotate` run without the server's flags keeps the 2-minute keys; the
 * running server logs that change with its kids, who made it and why.
 * @module
 */
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "../support/helpers.ts";
import { parseMetrics, sampleValue } from "../support/prometheus.ts";
import { runCli, scenario, startServer } from "../support/server_process.ts";

const ENV = { NOT_MY_KEY: "key policy test master secret, 32" };

scenario(
  "a start with --rotate-every 2m re-plans a 24 h database; keys rotate keeps it; the server logs the CLI's change",
  async (t) => {
    await withTempDir(async (cwd) => {
      const daily = await startServer({ cwd, env: ENV, args: ["--auth", "open"] });
      assert.equal(await daily.stop(), 0);

      const fast = await startServer({ cwd, env: ENV, args: ["--auth", "open", "--rotate-every", "2m"] });
      try {
        await t.step("the change is logged and the next key signs within minutes, not a day", async () => {
          const changed = fast.lines.map((line) => JSON.parse(line)).find((line) => line.msg === "key_policy_changed");
          assert.equal(changed?.summary, "rotation interval 1d → 2m");
          const metrics = parseMetrics(await (await fetch(`${fast.url}/metrics`)).text());
          const next = sampleValue(metrics, "jwks_next_key_activation_seconds")!;
          assert.ok(next <= 300 + 30, `the next key signs in ${next} s`);
        });
        await t.step("keys rotate without flags plans with the stored 2-minute policy, and says nothing", async () => {
          const result = await runCli(["keys", "rotate", "--json"], { cwd, env: ENV });
          assert.equal(result.code, 0, result.stderr);
          assert.equal(result.stderr, "");
          const report = JSON.parse(result.stdout);
          const created = report.changes.find((change: { event: string }) => change.event === "key_created");
          const key = report.keys.find((k: { kid: string }) => k.kid === created.kid);
          assert.equal((Date.parse(key.retiresAt) - Date.parse(key.activatesAt)) / 1000, 120);
          const logged = await waitFor(
            "the server to log the CLI's change",
            () =>
              fast.lines.map((line) => JSON.parse(line)).find((line) =>
                line.msg === "key_created" && line.kid === created.kid
              ),
          );
          assert.match(logged.by, /^keys rotate \(pid \d+ on .+\)$/);
          assert.equal(logged.reason, "rotate");
        });
        await t.step("a differing flag is named, on stderr", async () => {
          const result = await runCli(["keys", "rotate", "--rotate-every", "24h"], { cwd, env: ENV });
          assert.equal(result.code, 0, result.stderr);
          assert.match(
            result.stderr,
            /the rotation interval given here \(1d\) differs from the one the server uses \(2m/,
          );
        });
      } finally {
        assert.equal(await fast.stop(), 0);
      }
    });
  },
);
