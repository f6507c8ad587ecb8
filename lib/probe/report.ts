/**
 * The probe's report: its shape (what `--json` prints for CI) and the table people read, with
 * one summary line. Formatting only: the runner decides the verdicts and the exit code.
 * @module
 */
import type { AttackerFetch } from "./attacker.ts";

/** What became of one forged token. */
export type Verdict = "rejected" | "ACCEPTED" | "error" | "skipped";

/** One case's outcome. */
export interface CaseResult {
  readonly id: string;
  readonly description: string;
  readonly ref: string;
  /** The target's status, or null when there was none (error, skipped). */
  readonly status: number | null;
  readonly verdict: Verdict;
  /** A bounded summary of the answer, the failure, or why the case was skipped. */
  readonly answer: string;
  /** How the case was adapted to this server, when it was. */
  readonly note?: string;
  /** Paths of the attacker's site the target fetched for this case. */
  readonly fetched?: readonly string[];
}

/** The control's outcome. */
export interface ControlResult {
  readonly status: number | null;
  readonly verdict: "accepted" | "failed" | "unreachable";
  readonly answer: string;
}

/** A whole probe run. */
export interface ProbeReport {
  readonly target: string;
  readonly method: string;
  readonly expectStatus: number;
  readonly issuer: string;
  readonly audience: string | null;
  /** Base URL of the attacker's site (loopback). */
  readonly attackerSite: string;
  /** Every request the attacker's site answered. */
  readonly fetches: readonly AttackerFetch[];
  readonly control: ControlResult;
  readonly cases: readonly CaseResult[];
  /** 0 all rejected, 1 any accepted or unanswered, 2 control failed or target unreachable. */
  readonly exitCode: number;
}

/** Counts by verdict. */
export interface ProbeSummary {
  /** Forged tokens sent. */
  readonly sent: number;
  readonly rejected: number;
  readonly accepted: number;
  readonly errors: number;
  readonly skipped: number;
  /** Requests the target made to the attacker's site. */
  readonly attackerFetches: number;
}

/** Counts the verdicts of `report`. */
export function summarize(report: ProbeReport): ProbeSummary {
  const count = (verdict: Verdict) => report.cases.filter((result) => result.verdict === verdict).length;
  const skipped = count("skipped");
  return {
    sent: report.cases.length - skipped,
    rejected: count("rejected"),
    accepted: count("ACCEPTED"),
    errors: count("error"),
    skipped,
    attackerFetches: report.fetches.length,
  };
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

function section(title: string, lines: readonly string[]): string[] {
  return lines.length === 0 ? [] : ["", title, ...lines.map((line) => `  ${line}`)];
}

function quoted(value: string | null): string {
  return value === null ? "(none)" : JSON.stringify(value);
}

/** The one line that says how the run ended. */
export function summaryLine(report: ProbeReport): string {
  const { control } = report;
  if (control.verdict === "unreachable") {
    return `Target "${report.target}" is unreachable: ${control.answer}; no forged token was sent`;
  }
  if (control.verdict === "failed") {
    const answer = control.answer === "" ? "" : ` (${control.answer})`;
    return `Control token not accepted: the target answered ${control.status}${answer}, not ${report.expectStatus}; ` +
      `check --issuer ${quoted(report.issuer)} and --audience ${quoted(report.audience)} ` +
      "(and --method, --header, --expect-status); no forged token was sent";
  }
  const s = summarize(report);
  const counts = `${s.rejected} rejected, ${s.accepted} accepted, ${s.errors} without an answer, ${s.skipped} skipped`;
  if (s.accepted + s.errors === 0) return `PASS: all ${s.sent} forged tokens rejected (${counts})`;
  return `FAIL: ${s.accepted + s.errors} of ${s.sent} forged tokens not rejected (${counts})`;
}

/** The report as JSON (`json`) or as a table with a summary line. */
export function formatReport(report: ProbeReport, json: boolean): string {
  if (json) return JSON.stringify({ ...report, summary: summarize(report) }, null, 2) + "\n";
  const lines = [
    `Target: ${report.method} ${report.target} (accepted = ${report.expectStatus})`,
    `Expected claims: iss ${quoted(report.issuer)}, aud ${quoted(report.audience)}`,
    `Attacker site: ${report.attackerSite} (loopback only)`,
  ];
  if (report.control.verdict !== "accepted") return [...lines, "", summaryLine(report)].join("\n") + "\n";
  const got = (result: CaseResult) =>
    (result.status === null ? (result.verdict === "error" ? "error" : "-") : String(result.status)) +
    (result.fetched === undefined ? "" : " +fetch");
  const rows = [
    ["CASE", "EXPECTED", "GOT", "VERDICT"],
    ["control", String(report.expectStatus), String(report.control.status), "accepted"],
    ...report.cases.map((result) => [result.id, "reject", got(result), result.verdict]),
  ];
  const pick = (verdict: Verdict) => report.cases.filter((result) => result.verdict === verdict);
  const out = [
    ...lines,
    "",
    table(rows),
    ...section(
      "Accepted forged tokens:",
      pick("ACCEPTED").map((result) => `${result.id}: ${result.description} [${result.ref}]`),
    ),
    ...section("No answer:", pick("error").map((result) => `${result.id}: ${result.answer}`)),
    ...section("Skipped:", pick("skipped").map((result) => `${result.id}: ${result.answer}`)),
    ...section(
      "Notes:",
      report.cases.filter((result) => result.note !== undefined).map((result) => `${result.id}: ${result.note}`),
    ),
    ...section(
      "The target fetched attacker-controlled URLs (server-side request forgery, RFC 8725 §3.10):",
      report.fetches.map((fetch) => `${fetch.caseId}: GET ${fetch.path}`),
    ),
    "",
    summaryLine(report),
  ];
  return out.join("\n") + "\n";
}
