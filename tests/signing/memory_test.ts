import assert from "node:assert/strict";

const PROBE = new URL("./rss_probe.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

Deno.test("100,000 OpenSSL signatures leave the resident set where it was, and every key is freed", async (t) => {
  for (const calls of ["threads", "inline"]) {
    await t.step(`signing on ${calls === "inline" ? "the JS thread" : "blocking threads"}`, async () => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--config",
          CONFIG,
          "--v8-flags=--expose-gc",
          "-A",
          PROBE,
          "ES256",
          "20000",
          "100000",
          "200",
          calls,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(output.success, new TextDecoder().decode(output.stderr));
      const { before, after, liveKeys } = JSON.parse(new TextDecoder().decode(output.stdout));
      const grownMiB = (after - before) / 2 ** 20;
      // A signing context leaked per signature would be over 40 MiB here; allocator noise is a few.
      assert.ok(grownMiB < 16, `RSS grew ${grownMiB.toFixed(1)} MiB (${before} → ${after} bytes)`);
      assert.equal(liveKeys, 0, "every native key was freed");
    });
  }
});
