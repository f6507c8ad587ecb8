/**
 * The probe against real verifiers over real sockets: jose's `jwtVerify` with a remote key set
 * (every forged token rejected, exit 0; jose's defaults flagged for what they let through),
 * hand-written verifiers with one known flaw each (the right case ids reported, exit 1), a
 * misconfigured run (exit 2 with the target's answer) and an unreachable target (exit 2).
 * @module
 */
import assert from "node:assert/strict";
import type { Alg } from "../../lib/core/key_material.ts";
import { createSealer } from "../../lib/core/seal.ts";
import { type AttackerKeys, makeAttackerKeys } from "../../lib/probe/attacker.ts";
import { probeKeysFromRecords } from "../../lib/probe/keys.ts";
import type { ProbeReport } from "../../lib/probe/report.ts";
import { type ProbeOptions, runProbe } from "../../lib/probe/run.ts";
import type { TestApp } from "../support/helpers.ts";
import { type Flaw, handVerifier, joseVerifier, serve, servedIssuer } from "./verifiers.ts";

const SECRET = "test master secret, not for production";
const AUDIENCE = "https://api.example.test";

const attackerPool = new Map<Alg, Promise<AttackerKeys>>();
/** One attacker key set per algorithm for the whole file: RSA generation is the slow part. */
function attackerKeys(alg: Alg, now: number): Promise<AttackerKeys> {
  if (!attackerPool.has(alg)) attackerPool.set(alg, makeAttackerKeys(alg, now));
  return attackerPool.get(alg)!;
}

async function probe(
  app: TestApp,
  url: string,
  options: Partial<ProbeOptions> = {},
): Promise<ProbeReport & { output: string }> {
  const keys = await probeKeysFromRecords(await app.store.listKeys(), createSealer(SECRET), app.keys.now());
  let output = "";
  const report = await runProbe(
    { url, keys, issuer: app.config.issuer, audience: AUDIENCE, ...options },
    { clock: app.clock, write: (text) => (output += text), attackerKeys },
  );
  return { ...report, output };
}

function accepted(report: ProbeReport): string[] {
  return report.cases.filter((result) => result.verdict === "ACCEPTED").map((result) => result.id).sort();
}

function verdicts(report: ProbeReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { verdict } of report.cases) out[verdict] = (out[verdict] ?? 0) + 1;
  return out;
}

Deno.test("a correctly configured jose verifier rejects every forged token, exit 0", async (t) => {
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"] as const) {
    await t.step(alg, async () => {
      const issuer = await servedIssuer(alg);
      const { app, jwksUrl } = issuer;
      const api = await serve(
        joseVerifier({ jwksUrl, issuer: app.config.issuer, audience: AUDIENCE, alg, clock: app.clock, strict: true }),
      );
      try {
        const report = await probe(app, `${api.url}/orders`);
        assert.deepEqual(accepted(report), []);
        assert.equal(report.control.verdict, "accepted");
        assert.equal(report.exitCode, 0, report.output);
        assert.equal(verdicts(report).error, undefined);
        assert.ok(report.cases.filter((result) => result.verdict === "rejected").length >= 40);
        assert.deepEqual(report.fetches, [], "jose never follows jku, x5u or a kid URL");
        assert.match(report.output, /^PASS: all \d+ forged tokens rejected/m);
        assert.match(report.output, /^revoked-key +reject +401 +rejected$/m);
      } finally {
        await api.close();
        await issuer.close();
      }
    });
  }
});

Deno.test("jose with only issuer and audience set is caught accepting no exp and an iat in the future", async () => {
  const issuer = await servedIssuer("RS256");
  const { app, jwksUrl } = issuer;
  const api = await serve(
    joseVerifier({
      jwksUrl,
      issuer: app.config.issuer,
      audience: AUDIENCE,
      alg: "RS256",
      clock: app.clock,
      strict: false,
    }),
  );
  try {
    const report = await probe(app, api.url);
    assert.deepEqual(accepted(report), ["exp-missing", "iat-future"]);
    assert.equal(report.exitCode, 1);
    assert.match(report.output, /^FAIL: 2 of \d+ forged tokens not rejected/m);
    assert.match(report.output, /^ {2}exp-missing: No exp claim: a token that never expires \[RFC 7519 §4\.1\.4/m);
  } finally {
    await api.close();
    await issuer.close();
  }
});

/** Each flaw, the server algorithm it needs, and exactly the cases that must expose it. */
const FLAWS: readonly [Flaw, Alg, string[]][] = [
  ["accepts-alg-none", "RS256", [
    "alg-none",
    "alg-none-capitalised",
    "alg-none-mixed",
    "alg-none-upper",
    "alg-none-with-signature",
  ]],
  ["public-key-as-hmac-secret", "RS256", ["hs256-public-key-pem", "hs384-public-key-pem", "hs512-public-key-pem"]],
  ["trusts-embedded-jwk", "RS256", ["jwk-embedded"]],
  ["follows-jku", "RS256", ["jku-attacker-url"]],
  ["skips-exp", "RS256", ["exp-expired", "exp-missing"]],
  ["skips-aud", "RS256", ["aud-missing", "aud-wrong", "typ-id-token"]],
  ["accepts-psychic-ecdsa", "ES256", ["es256-order-signature", "es256-zero-signature"]],
];

Deno.test("a verifier with one flaw is reported by the cases for that flaw, exit 1", async (t) => {
  const issuers = new Map<Alg, Awaited<ReturnType<typeof servedIssuer>>>();
  try {
    await t.step("the flawless hand-written verifier rejects everything", async () => {
      const issuer = await servedIssuer("ES256");
      issuers.set("ES256", issuer);
      const { app, jwksUrl } = issuer;
      const api = await serve(
        handVerifier({ jwksUrl, issuer: app.config.issuer, audience: AUDIENCE, alg: "ES256", clock: app.clock }),
      );
      try {
        const report = await probe(app, api.url);
        assert.deepEqual(accepted(report), []);
        assert.equal(report.exitCode, 0);
      } finally {
        await api.close();
      }
    });
    for (const [flaw, alg, expected] of FLAWS) {
      await t.step(flaw, async () => {
        if (!issuers.has(alg)) issuers.set(alg, await servedIssuer(alg));
        const { app, jwksUrl } = issuers.get(alg)!;
        const api = await serve(
          handVerifier({ jwksUrl, issuer: app.config.issuer, audience: AUDIENCE, alg, clock: app.clock, flaw }),
        );
        try {
          const report = await probe(app, api.url);
          assert.deepEqual(accepted(report), expected);
          assert.equal(report.exitCode, 1);
          for (const id of expected) {
            assert.match(report.output, new RegExp(`^${id} +reject +200( \\+fetch)? +ACCEPTED$`, "m"));
          }
        } finally {
          await api.close();
        }
      });
    }
  } finally {
    for (const issuer of issuers.values()) await issuer.close();
  }
});

Deno.test("the probe reports that a verifier fetched the attacker's key set", async () => {
  const issuer = await servedIssuer("RS256");
  const { app, jwksUrl } = issuer;
  const api = await serve(
    handVerifier({
      jwksUrl,
      issuer: app.config.issuer,
      audience: AUDIENCE,
      alg: "RS256",
      clock: app.clock,
      flaw: "follows-jku",
    }),
  );
  try {
    const report = await probe(app, api.url, { json: true });
    assert.deepEqual(report.fetches, [{ caseId: "jku-attacker-url", path: "/jku-attacker-url/jwks.json" }]);
    const json = JSON.parse(report.output);
    const jku = json.cases.find((result: { id: string }) => result.id === "jku-attacker-url");
    assert.deepEqual(jku.fetched, ["/jku-attacker-url/jwks.json"]);
    assert.equal(json.summary.attackerFetches, 1);
    assert.equal(json.exitCode, 1);
    assert.ok(json.attackerSite.startsWith("http://127.0.0.1:"));
  } finally {
    await api.close();
    await issuer.close();
  }
});

Deno.test("a control token the target refuses stops the run with exit 2 and the target's answer", async () => {
  const issuer = await servedIssuer("RS256");
  const { app, jwksUrl } = issuer;
  let requests = 0;
  const verify = joseVerifier({
    jwksUrl,
    issuer: app.config.issuer,
    audience: "https://other.example",
    alg: "RS256",
    clock: app.clock,
    strict: true,
  });
  const api = await serve((request) => {
    requests++;
    return verify(request);
  });
  try {
    const report = await probe(app, api.url);
    assert.equal(report.exitCode, 2);
    assert.equal(report.control.verdict, "failed");
    assert.equal(report.control.status, 401);
    assert.deepEqual(report.cases, []);
    assert.equal(requests, 1, "no forged token is sent after a failed control");
    assert.match(report.output, /Control token not accepted: the target answered 401/);
    assert.match(report.output, /WWW-Authenticate: Bearer error="invalid_token"/);
    assert.match(report.output, /unexpected \\"aud\\" claim value/);
    assert.match(
      report.output,
      /check --issuer "http:\/\/127\.0\.0\.1:8080" and --audience "https:\/\/api\.example\.test"/,
    );
  } finally {
    await api.close();
    await issuer.close();
  }
});

Deno.test("an unreachable target is exit 2 and nothing else is sent", async () => {
  const issuer = await servedIssuer("RS256");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  try {
    const report = await probe(issuer.app, `http://127.0.0.1:${port}/`);
    assert.equal(report.exitCode, 2);
    assert.equal(report.control.verdict, "unreachable");
    assert.match(
      report.output,
      new RegExp(`Target "http://127\\.0\\.0\\.1:${port}/" is unreachable: .+; no forged token was sent`),
    );
  } finally {
    await issuer.close();
  }
});
