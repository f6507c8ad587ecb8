/**
 * The worked example of docs/probe.md with real processes: `main.ts serve --auth open`, the
 * example API `docs/examples/verifier_api.ts` (jose with a remote key set), and the probe
 * command signing with the keys it unseals from the server's database file and `.secret`.
 * @module
 */
import assert from "node:assert/strict";
import { openStore } from "../../lib/app.ts";
import { createSealer } from "../../lib/core/seal.ts";
import { runProbeCommand } from "../../lib/probe/command.ts";
import { loadConfig } from "../../lib/settings.ts";
import { withMasterSecret } from "../../lib/store/master_secret.ts";
import { collectLines, startServer } from "../support/server_process.ts";

const EXAMPLE = new URL("../../docs/examples/verifier_api.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const ISSUER = "http://issuer.test";

/** Starts the example API on an ephemeral port and resolves with its URL once it listens. */
async function startExample(jwks: string, extra: string[] = []) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      CONFIG,
      "--allow-net",
      EXAMPLE,
      "--port",
      "0",
      "--jwks",
      jwks,
      "--issuer",
      ISSUER,
      ...extra,
    ],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const listening = Promise.withResolvers<string>();
  const done = collectLines(child.stdout, (line) => {
    const match = /listening on (\S+)/.exec(line);
    if (match !== null) listening.resolve(match[1]!);
  });
  child.status.then(() => listening.reject(new Error("the example API exited")));
  const url = await listening.promise;
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await done;
    },
  };
}

async function probe(db: string, url: string): Promise<{ code: number; output: string }> {
  const config = loadConfig({ db }, {});
  const { value: opened } = await withMasterSecret(config, async (secret) => {
    const sealer = createSealer(secret);
    return { sealer, store: await openStore(config, sealer) };
  });
  let output = "";
  try {
    const code = await runProbeCommand(
      { url, issuer: ISSUER, audience: "my-api" },
      {
        keys: { records: await opened.store.listKeys(), sealer: opened.sealer },
        clock: Date.now,
        write: (text) => (output += text),
      },
    );
    return { code, output };
  } finally {
    await opened.store.close();
  }
}

Deno.test("the probe against the example API behind a real server: strict jose passes, lax jose fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "probe-e2e-" });
  const server = await startServer({ cwd: dir, args: ["--auth", "open", "--issuer", ISSUER] });
  const db = `${dir}/totally_not_my_privateKeys.db`;
  try {
    const strict = await startExample(`${server.url}/.well-known/jwks.json`);
    try {
      const { code, output } = await probe(db, `${strict.url}/orders`);
      assert.equal(code, 0, output);
      assert.match(output, /^PASS: all \d+ forged tokens rejected/m);
    } finally {
      await strict.stop();
    }
    const lax = await startExample(`${server.url}/.well-known/jwks.json`, ["--lax"]);
    try {
      const { code, output } = await probe(db, lax.url);
      assert.equal(code, 1, output);
      assert.match(output, /^exp-missing +reject +200 +ACCEPTED$/m);
      assert.match(output, /^iat-future +reject +200 +ACCEPTED$/m);
      assert.match(output, /^FAIL: 2 of \d+ forged tokens not rejected/m);
    } finally {
      await lax.stop();
    }
  } finally {
    assert.equal(await server.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});
