import assert from "node:assert/strict";

const PROBE = new URL("./rss_probe.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

const STEPS = {
  threads: ["ES256", "OpenSSL on blocking threads"],
  inline: ["ES256", "OpenSSL on the JS thread"],
  "node-crypto": ["EdDSA", "node:crypto"],
} as const;

Deno.test("100,000 signatures leave the resident set where it was, and every key is freed", async (t) => {
  for (const [calls, [alg, name]] of Object.entries(STEPS)) {
    await t.step(`${alg} through ${name}`, async () => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--config",
          CONFIG,
          "--v8-flags=--expose-gc",
          "-A",
          PROBE,
          alg,
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
