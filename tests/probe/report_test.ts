import assert from "node:assert/strict";
import { type CaseResult, formatReport, type ProbeReport, summarize, summaryLine } from "../../lib/probe/report.ts";

const result = (id: string, verdict: CaseResult["verdict"], extra: Partial<CaseResult> = {}): CaseResult => ({
  id,
  description: `${id} description`,
  ref: "RFC 8725 §3.1",
  status: verdict === "rejected" ? 401 : verdict === "ACCEPTED" ? 200 : null,
  verdict,
  answer: verdict === "skipped" ? "no audience given" : verdict === "error" ? "timed out after 5 s" : "",
  ...extra,
});

const report = (cases: CaseResult[], overrides: Partial<ProbeReport> = {}): ProbeReport => ({
  target: "http://127.0.0.1:9999/api",
  method: "GET",
  expectStatus: 200,
  issuer: "http://issuer",
  audience: null,
  attackerSite: "http://127.0.0.1:5555",
  fetches: [],
  control: { status: 200, verdict: "accepted", answer: "" },
  cases,
  exitCode: 0,
  ...overrides,
});

Deno.test("summarize() counts verdicts; skipped cases were never sent", () => {
  const summary = summarize(report(
    [result("a", "rejected"), result("b", "ACCEPTED"), result("c", "error"), result("d", "skipped")],
    { fetches: [{ caseId: "jku", path: "/jku/jwks.json" }] },
  ));
  assert.deepEqual(summary, { sent: 3, rejected: 1, accepted: 1, errors: 1, skipped: 1, attackerFetches: 1 });
});

Deno.test("summaryLine() says PASS only when every forged token sent was rejected", async (t) => {
  await t.step("all rejected is PASS", () => {
    assert.equal(
      summaryLine(report([result("a", "rejected"), result("s", "skipped")])),
      "PASS: all 1 forged tokens rejected (1 rejected, 0 accepted, 0 without an answer, 1 skipped)",
    );
  });
  await t.step("an accepted token or one without an answer is FAIL", () => {
    assert.match(
      summaryLine(report([result("a", "ACCEPTED"), result("b", "rejected")])),
      /^FAIL: 1 of 2 forged tokens/,
    );
    assert.match(summaryLine(report([result("c", "error")])), /^FAIL: 1 of 1 forged tokens not rejected/);
  });
  await t.step("an unreachable target or a refused control says no forged token was sent, and what to check", () => {
    const unreachable = report([], { control: { status: null, verdict: "unreachable", answer: "connection refused" } });
    assert.equal(
      summaryLine(unreachable),
      'Target "http://127.0.0.1:9999/api" is unreachable: connection refused; no forged token was sent',
    );
    const failed = summaryLine(report([], { control: { status: 401, verdict: "failed", answer: "bad iss" } }));
    assert.match(failed, /^Control token not accepted: the target answered 401 \(bad iss\), not 200/);
    assert.match(failed, /--issuer "http:\/\/issuer" and --audience \(none\)/);
  });
});

Deno.test("formatReport() prints a table with what was accepted, skipped, noted and fetched; or JSON", async (t) => {
  const full = report([
    result("alg-none", "ACCEPTED"),
    result("kid-url", "rejected", { fetched: ["/kid-url/key.json"], note: "adapted" }),
    result("aud-wrong", "skipped"),
    result("oversized-token", "error"),
  ], { fetches: [{ caseId: "kid-url", path: "/kid-url/key.json" }] });
  await t.step("the table has one row per case and the sections name each case", () => {
    const text = formatReport(full, false);
    const lines = text.split("\n");
    assert.equal(lines[0], "Target: GET http://127.0.0.1:9999/api (accepted = 200)");
    assert.ok(lines.some((line) => /^control\s+200\s+200\s+accepted$/.test(line)));
    assert.ok(lines.some((line) => /^alg-none\s+reject\s+200\s+ACCEPTED$/.test(line)));
    assert.ok(lines.some((line) => /^kid-url\s+reject\s+401 \+fetch\s+rejected$/.test(line)));
    assert.ok(lines.some((line) => /^oversized-token\s+reject\s+error\s+error$/.test(line)));
    assert.ok(lines.some((line) => /^aud-wrong\s+reject\s+-\s+skipped$/.test(line)));
    assert.ok(text.includes("Accepted forged tokens:\n  alg-none: alg-none description [RFC 8725 §3.1]"));
    assert.ok(text.includes("Skipped:\n  aud-wrong: no audience given"));
    assert.ok(text.includes("Notes:\n  kid-url: adapted"));
    assert.ok(text.includes("(server-side request forgery, RFC 8725 §3.10):\n  kid-url: GET /kid-url/key.json"));
    assert.ok(text.endsWith(`${summaryLine(full)}\n`));
  });
  await t.step("a clean run has no empty sections", () => {
    const text = formatReport(report([result("a", "rejected")]), false);
    assert.ok(!/Accepted forged tokens|No answer|Skipped:|Notes:|fetched attacker/.test(text));
  });
  await t.step("a failed control prints the header and the reason only", () => {
    const text = formatReport(
      report([result("a", "rejected")], { control: { status: 500, verdict: "failed", answer: "" } }),
      false,
    );
    assert.ok(!text.includes("CASE"));
    assert.match(text, /Control token not accepted: the target answered 500, not 200/);
  });
  await t.step("JSON is the report with its summary", () => {
    const parsed = JSON.parse(formatReport(full, true));
    assert.equal(parsed.target, full.target);
    assert.equal(parsed.cases.length, 4);
    assert.deepEqual(parsed.summary, summarize(full));
  });
});
