/**
 * `deno task start` stopped the way a terminal (Ctrl-C) or systemd (KillMode=control-group)
 * stops it: one signal to the whole process group, so `deno task`, the task shell and the server
 * all get it. The server must drain once and exit 0, and `deno task` must pass the 0 on.
 * @module
 */
import assert from "node:assert/strict";
import { withTempDir } from "../support/helpers.ts";
import { collectLines, scenario, spawnPiped } from "../support/server_process.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  scenario(`${signal} to the process group of deno task start drains the server once and exits 0`, async () => {
    await withTempDir(async (dir) => {
      const env: Record<string, string> = { NOT_MY_KEY: "group signal test secret, 32 bytes" };
      for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
        const value = Deno.env.get(name);
        if (value !== undefined) env[name] = value;
      }
      // setsid: the task runs in a process group of its own (its leader's pid is the group id).
      const child = spawnPiped(
        "setsid",
        [Deno.execPath(), "task", "--config", CONFIG, "start", "--port", "0", "--db", `${dir}/keys.db`],
        { env },
      );
      const lines: string[] = [];
      const listening = Promise.withResolvers<string>();
      const stdout = collectLines(child.stdout, (line) => {
        lines.push(line);
        if (line.includes('"msg":"listening"')) listening.resolve(JSON.parse(line).url);
      });
      const stderr = collectLines(child.stderr, () => {});
      const timer = setTimeout(() => listening.reject(new Error("the server did not listen within 30 s")), 30_000);
      try {
        const url = await listening.promise;
        const health = await fetch(`${url}/healthz`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
        Deno.kill(-child.pid, signal);
        const status = await child.status;
        await Promise.all([stdout, stderr]);
        assert.equal(status.code, 0, "deno task exits 0");
        const messages = lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line).msg);
        assert.deepEqual(messages.filter((msg) => msg === "shutting_down").length, 1, "one drain");
        assert.ok(messages.includes("stopped"), "the drain completed");
        assert.ok(!messages.includes("forced_exit") && !messages.includes("shutdown_deadline_passed"));
      } finally {
        clearTimeout(timer);
        try {
          Deno.kill(-child.pid, "SIGKILL");
        } catch {
          // the group is gone
        }
        await child.status;
      }
    });
  });
}
