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
import { skipUnlessInstalled } from "../support/helpers.ts";
import { startListening, startServer } from "../support/server_process.ts";

const EXAMPLE = new URL("../../docs/examples/verifier_api.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const ISSUER = "http://issuer.test";
const PYJWT_VERIFIER = new URL("../support/pyjwt_verifier.py", import.meta.url).pathname;
/** Debian's python3, where `apt-get install python3-jwt` puts PyJWT. */
const PYTHON = "/usr/bin/python3";

async function missingPyJwt(): Promise<string | null> {
  try {
    const { success } = await new Deno.Command(PYTHON, { args: ["-c", "import jwt"], stderr: "null" }).output();
    return success ? null : "PyJWT is not installed (apt-get install python3-jwt)";
  } catch {
    return `${PYTHON} is not installed (apt-get install python3-jwt)`;
  }
}

/** Starts the example API on an ephemeral port and resolves with its URL once it listens. */
function startExample(jwks: string, extra: string[] = []) {
  const args = ["run", "--config", CONFIG, "--allow-net", EXAMPLE, "--port", "0", "--jwks", jwks, "--issuer", ISSUER];
  return startListening(Deno.execPath(), [...args, ...extra]);
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

/** The ids of the cases the target wrongly accepted, from the probe's report. */
const acceptedIds = (output: string) => [...output.matchAll(/^(\S+) +reject +\d+ +ACCEPTED$/gm)].map((m) => m[1]!);

Deno.test({
  name: "the probe finds what PyJWT lets through: unknown crit before 2.12, a token without exp with its defaults",
  ignore: skipUnlessInstalled(await missingPyJwt()) !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "probe-pyjwt-" });
    const server = await startServer({ cwd: dir, args: ["--auth", "open", "--issuer", ISSUER, "--alg", "RS256"] });
    const db = `${dir}/totally_not_my_privateKeys.db`;
    const jwks = `${server.url}/.well-known/jwks.json`;
    const run = async (mode: "strict" | "defaults") => {
      const verifier = await startListening(PYTHON, [PYJWT_VERIFIER, jwks, ISSUER, "my-api", "RS256", mode]);
      try {
        return await probe(db, verifier.url);
      } finally {
        await verifier.stop();
      }
    };
    try {
      // PyJWT before 2.12 ignores `crit` (CVE-2026-32597; Debian 12 ships 2.6): the probe must
      // say so, and must find nothing else against a pinned verifier that requires the claims.
      const strict = await run("strict");
      assert.ok(acceptedIds(strict.output).every((id) => id === "crit-unknown"), strict.output);
      assert.equal(strict.code, acceptedIds(strict.output).length === 0 ? 0 : 1, strict.output);
      // PyJWT's documented decode() checks exp only when a token has one.
      const defaults = await run("defaults");
      assert.equal(defaults.code, 1, defaults.output);
      assert.deepEqual(
        acceptedIds(defaults.output).filter((id) => id !== "crit-unknown"),
        ["exp-missing"],
        defaults.output,
      );
    } finally {
      assert.equal(await server.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
