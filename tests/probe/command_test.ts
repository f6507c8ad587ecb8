/**
 * The `probe` command adapter: flag values validated with usage errors, keys unsealed from the
 * records and sealer it is handed, the request it sends (method, extra headers, body, bearer
 * token, no redirects), timeouts reported as errors, and `--json` for CI.
 * @module
 */
import assert from "node:assert/strict";
import { hasCode } from "../../lib/core/errors.ts";
import { createSealer } from "../../lib/core/seal.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { type AttackerKeys, makeAttackerKeys } from "../../lib/probe/attacker.ts";
import { helpFor } from "../../lib/cli/commands.ts";
import { parseHeaders, type ProbeCommandOptions, runProbeCommand } from "../../lib/probe/command.ts";
import { type TestApp, testApp } from "../support/helpers.ts";

const sealer = createSealer("test master secret, not for production");
let attacker: Promise<AttackerKeys> | null = null;
const attackerKeys = (alg: Alg, now: number) => attacker ??= makeAttackerKeys(alg, now);

async function run(
  app: TestApp,
  options: Partial<ProbeCommandOptions>,
  fetch: typeof globalThis.fetch,
): Promise<{ code: number; output: string }> {
  let output = "";
  const code = await runProbeCommand(
    { url: "http://127.0.0.1:1/api", issuer: app.config.issuer, ...options },
    {
      keys: { records: await app.store.listKeys(), sealer },
      clock: app.clock,
      write: (text) => (output += text),
      fetch,
      attackerKeys,
    },
  );
  return { code, output };
}

/** A target that accepts only the control token (the first request) and records every request. */
function controlOnly(
  seen: Request[],
  answer: (index: number) => Response = (i) => new Response(null, { status: i === 0 ? 200 : 401 }),
) {
  return (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push(request);
    return Promise.resolve(answer(seen.length - 1));
  };
}

Deno.test("bad flag values are usage errors naming the flag", async (t) => {
  const app = await testApp({ alg: "RS256" });
  try {
    const fetch = controlOnly([]);
    const cases: [Partial<ProbeCommandOptions>, RegExp][] = [
      [{ url: undefined }, /Missing URL/],
      [{ url: "ftp://example.com/" }, /Invalid target URL "ftp:\/\/example\.com\/"/],
      [{ method: "GE T" }, /Invalid --method/],
      [{ header: "no colon" }, /Invalid --header "no colon"/],
      [{ header: ["X-Ok: 1", "Authorization: Basic x"] }, /--header cannot set Authorization/],
      [{ expectStatus: "2xx" }, /Invalid --expect-status "2xx"/],
      [{ expectStatus: 600 }, /Invalid --expect-status "600"/],
      [{ timeout: "soon" }, /Invalid --timeout "soon"/],
      [{ timeout: "0s" }, /Invalid --timeout "0s"/],
      [{ body: "{}" }, /A request body needs a method other than GET/],
    ];
    for (const [options, message] of cases) {
      await t.step(message.source, async () => {
        await assert.rejects(
          run(app, options, fetch),
          (error) => hasCode(error, "usage") && message.test(error.message),
        );
      });
    }
  } finally {
    await app.close();
  }
});

Deno.test("parseHeaders() splits at the first colon and trims", () => {
  assert.deepEqual(parseHeaders(["Cookie: a=b; c=d", "X-Api-Key:k:v "]), [["Cookie", "a=b; c=d"], [
    "X-Api-Key",
    "k:v",
  ]]);
  assert.deepEqual(parseHeaders(undefined), []);
  assert.match(helpFor("probe"), /--expect-status N/);
});

Deno.test("every request carries the method, extra headers, body and a bearer token, and redirects are not followed", async () => {
  const app = await testApp({ alg: "RS256" });
  try {
    const seen: Request[] = [];
    const { code } = await run(app, {
      method: "post",
      header: ["X-Api-Key: k1", "Cookie: session=abc"],
      body: '{"query":"{ me { id } }"}',
      audience: "my-api",
    }, async (input, init) => {
      assert.equal(init?.redirect, "manual");
      assert.ok(init?.signal instanceof AbortSignal);
      return await controlOnly(seen)(input, init);
    });
    assert.equal(code, 0);
    assert.ok(seen.length >= 45);
    const tokens = new Set<string>();
    for (const request of seen) {
      assert.equal(request.method, "POST");
      assert.equal(request.url, "http://127.0.0.1:1/api");
      assert.equal(request.headers.get("x-api-key"), "k1");
      assert.equal(request.headers.get("cookie"), "session=abc");
      assert.equal(request.headers.get("content-type"), "application/json");
      assert.equal(await request.text(), '{"query":"{ me { id } }"}');
      const token = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
      assert.ok(token !== undefined);
      tokens.add(token);
    }
    assert.equal(tokens.size, seen.length, "every request sends a different token");
  } finally {
    await app.close();
  }
});

Deno.test("a case without an answer is an error (exit 1); the expected status decides acceptance", async (t) => {
  const app = await testApp({ alg: "RS256" });
  try {
    await t.step("a timeout", async () => {
      let n = 0;
      const { code, output } = await run(app, { timeout: "250ms" }, () => {
        n++;
        if (n === 2) return Promise.reject(new DOMException("Signal timed out.", "TimeoutError"));
        return Promise.resolve(new Response(null, { status: n === 1 ? 200 : 403 }));
      });
      assert.equal(code, 1);
      assert.match(output, /^exp-expired +reject +error +error$/m);
      assert.match(output, /^No answer:\n {2}exp-expired: no answer within 0\.25 s$/m);
      assert.match(
        output,
        /^FAIL: 1 of \d+ forged tokens not rejected \(\d+ rejected, 0 accepted, 1 without an answer/m,
      );
    });
    await t.step("--expect-status 204, and any 2xx counts as accepted", async () => {
      const { code, output } = await run(
        app,
        { expectStatus: "204", json: true },
        controlOnly([], (i) => new Response(null, { status: i === 0 ? 204 : i === 5 ? 200 : 302 })),
      );
      assert.equal(code, 1);
      const report = JSON.parse(output);
      assert.equal(report.expectStatus, 204);
      assert.deepEqual(report.cases.filter((c: { verdict: string }) => c.verdict === "ACCEPTED").length, 1);
      assert.equal(report.summary.accepted, 1);
      assert.equal(report.cases.find((c: { status: number }) => c.status === 302).verdict, "rejected");
    });
  } finally {
    await app.close();
  }
});

Deno.test("--json reports every case with id, description, reference, status and verdict", async () => {
  const app = await testApp({ alg: "RS256" });
  try {
    const { code, output } = await run(app, { json: true, audience: "my-api" }, controlOnly([]));
    assert.equal(code, 0);
    const report = JSON.parse(output);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(report.control, { status: 200, verdict: "accepted", answer: "" });
    assert.equal(report.audience, "my-api");
    assert.deepEqual(Object.keys(report.cases[0]).sort(), ["answer", "description", "id", "ref", "status", "verdict"]);
    assert.equal(report.summary.skipped, 1);
    assert.equal(report.cases.find((c: { id: string }) => c.id === "revoked-key").verdict, "skipped");
  } finally {
    await app.close();
  }
});

Deno.test("the target's answer is bounded and never echoes a token", async () => {
  const app = await testApp({ alg: "RS256" });
  try {
    const { code, output } = await run(app, {}, (input, init) => {
      const token = new Headers(init?.headers).get("authorization")!.slice(7);
      void input;
      return Promise.resolve(new Response(`bad token ${token} ${"x".repeat(10_000)}`, { status: 401 }));
    });
    assert.equal(code, 2);
    assert.match(output, /Control token not accepted: the target answered 401 \(bad token \[token\] x+…\), not 200/);
    assert.ok(output.length < 1000);
  } finally {
    await app.close();
  }
});
