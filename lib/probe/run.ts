/**
 * The probe runner: builds the catalogue, serves the attacker's site on 127.0.0.1 (an ephemeral
 * port) for the `jku`/`x5u`/`kid` URL cases, sends the control and then every case to the one
 * target URL (one request at a time, each with a timeout, redirects not followed), and reports
 * a verdict per case. Network, clock and output come in as dependencies; argv is the CLI's job.
 * @module
 */
import { readPrefix } from "../core/bytes.ts";
import { AppError } from "../core/errors.ts";
import type { Alg } from "../core/key_material.ts";
import { type AttackerFetch, type AttackerKeys, attackerSite, makeAttackerKeys } from "./attacker.ts";
import { buildCatalogue } from "./catalogue.ts";
import type { ProbeKeys } from "./keys.ts";
import { type CaseResult, formatReport, type ProbeReport } from "./report.ts";

/** Options of {@linkcode runProbe}. */
export interface ProbeOptions {
  /** The endpoint that verifies bearer tokens (http or https). */
  readonly url: string;
  readonly keys: ProbeKeys;
  /** The `iss` the target expects. */
  readonly issuer: string;
  /** The `aud` the target expects; without it the audience cases are skipped. */
  readonly audience?: string | null;
  /** HTTP method. Default `GET`. */
  readonly method?: string;
  /** Extra request headers, sent with every token. */
  readonly headers?: readonly (readonly [string, string])[];
  /** Request body, sent with every token. */
  readonly body?: string;
  /** The status of an accepted request. Default 200. */
  readonly expectStatus?: number;
  /** Per-request timeout in milliseconds. Default 5000. */
  readonly timeoutMs?: number;
  /** Write the report as JSON instead of a table. Default false. */
  readonly json?: boolean;
}

/** A running attacker site. */
export interface AttackerServer {
  /** Base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  close(): Promise<void>;
}

/** What the runner may touch outside itself. */
export interface ProbeDeps {
  /** Unix milliseconds now. */
  readonly clock: () => number;
  /** Writes the report (stdout). */
  write(text: string): void;
  /** Sends requests to the target; the global `fetch` by default. */
  readonly fetch?: typeof fetch;
  /** Serves the attacker's site; by default `Deno.serve` on 127.0.0.1, port 0. */
  readonly serve?: (handler: (request: Request) => Response) => Promise<AttackerServer>;
  /** Makes the attacker's keys; fresh ones by default. */
  readonly attackerKeys?: (alg: Alg, now: number) => Promise<AttackerKeys>;
}

/** Bytes of a response body kept for the report. */
const ANSWER_BYTES = 4096;
/** Characters of a target's answer shown in a message. */
const ANSWER_CHARS = 300;

function serveLoopback(handler: (request: Request) => Response): Promise<AttackerServer> {
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => resolve({ url: `http://127.0.0.1:${port}`, close: () => server.shutdown() }),
    }, handler);
  });
}

async function readBounded(response: Response): Promise<string> {
  if (response.body === null) return "";
  return new TextDecoder().decode(await readPrefix(response.body, ANSWER_BYTES));
}

/** A short, safe summary of what the target answered: `WWW-Authenticate` and the body's error fields. */
function answerOf(response: Response, text: string): string {
  const parts: string[] = [];
  const challenge = response.headers.get("www-authenticate");
  if (challenge !== null) parts.push(`WWW-Authenticate: ${challenge}`);
  let fields: string[] = [];
  try {
    const body = JSON.parse(text);
    if (body !== null && typeof body === "object") {
      fields = ["error", "error_description", "message"]
        .filter((name) => typeof body[name] === "string")
        .map((name) => `${name}: ${JSON.stringify(body[name])}`);
    }
  } catch {
    // not JSON: show the text
  }
  const rest = fields.length > 0 ? fields.join(", ") : text.replace(/\s+/g, " ").trim();
  if (rest !== "") parts.push(rest);
  // Never echo a token back, even one the target reflected.
  const clean = parts.join("; ").replace(/\p{Cc}/gu, " ")
    .replace(/[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, "[token]");
  return clean.length > ANSWER_CHARS ? `${clean.slice(0, ANSWER_CHARS)}…` : clean;
}

type Sent = { status: number; answer: string } | { failure: string };

function failureOf(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").slice(0, ANSWER_CHARS);
}

function validate(options: ProbeOptions): URL {
  if (!URL.canParse(options.url) || !/^https?:$/.test(new URL(options.url).protocol)) {
    throw new AppError("usage", `Invalid target URL "${options.url}": expected an http:// or https:// URL`);
  }
  const method = (options.method ?? "GET").toUpperCase();
  if (options.body !== undefined && (method === "GET" || method === "HEAD")) {
    throw new AppError("usage", `A request body needs a method other than ${method} (see --method)`);
  }
  return new URL(options.url);
}

/**
 * Runs the probe and writes its report. The exit code in the result: 0 every forged token was
 * rejected, 1 one was accepted or got no answer, 2 the control was not accepted or the target
 * could not be reached (then no case was sent).
 */
export async function runProbe(options: ProbeOptions, deps: ProbeDeps): Promise<ProbeReport> {
  const target = validate(options);
  const method = (options.method ?? "GET").toUpperCase();
  const expectStatus = options.expectStatus ?? 200;
  const timeoutMs = options.timeoutMs ?? 5000;
  const doFetch = deps.fetch ?? fetch;
  const now = Math.floor(deps.clock() / 1000);
  const attacker = await (deps.attackerKeys ?? makeAttackerKeys)(options.keys.active.alg, now);
  const fetches: AttackerFetch[] = [];
  let handler: (request: Request) => Response = () => new Response(null, { status: 503 });
  const site = await (deps.serve ?? serveLoopback)((request) => handler(request));
  handler = attackerSite(attacker, site.url, (fetched) => fetches.push(fetched));

  const send = async (token: string): Promise<Sent> => {
    const headers = new Headers(options.headers?.map(([name, value]) => [name, value]));
    headers.set("authorization", `Bearer ${token}`);
    if (options.body !== undefined && !headers.has("content-type") && /^\s*[[{]/.test(options.body)) {
      headers.set("content-type", "application/json");
    }
    try {
      const response = await doFetch(target, {
        method,
        headers,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
        ...(options.body === undefined ? {} : { body: options.body }),
      });
      return { status: response.status, answer: answerOf(response, await readBounded(response)) };
    } catch (error) {
      return { failure: failureOf(error, timeoutMs) };
    }
  };
  const accepted = (status: number) => status === expectStatus || (status >= 200 && status < 300);

  try {
    const catalogue = await buildCatalogue({
      keys: options.keys,
      attacker,
      attackerBase: site.url,
      issuer: options.issuer,
      audience: options.audience ?? null,
      now,
    });
    const report: Omit<ProbeReport, "control" | "cases" | "exitCode"> = {
      target: target.href,
      method,
      expectStatus,
      issuer: options.issuer,
      audience: options.audience ?? null,
      attackerSite: site.url,
      fetches,
    };
    const control = await send(catalogue.control.token);
    if ("failure" in control || control.status !== expectStatus) {
      const result = {
        ...report,
        control: "failure" in control
          ? { status: null, verdict: "unreachable" as const, answer: control.failure }
          : { status: control.status, verdict: "failed" as const, answer: control.answer },
        cases: [],
        exitCode: 2,
      };
      deps.write(formatReport(result, options.json === true));
      return result;
    }
    const cases: CaseResult[] = [];
    for (const probe of catalogue.cases) {
      const sent = await send(probe.token);
      const { id, description, ref } = probe;
      const base = { id, description, ref, ...(probe.note === undefined ? {} : { note: probe.note }) };
      cases.push(
        "failure" in sent ? { ...base, status: null, verdict: "error", answer: sent.failure } : {
          ...base,
          status: sent.status,
          verdict: accepted(sent.status) ? "ACCEPTED" : "rejected",
          answer: sent.answer,
        },
      );
    }
    for (const { id, description, ref, reason } of catalogue.skipped) {
      cases.push({ id, description, ref, status: null, verdict: "skipped", answer: reason });
    }
    const failed = cases.some((result) => result.verdict === "ACCEPTED" || result.verdict === "error");
    const result: ProbeReport = {
      ...report,
      control: { status: control.status, verdict: "accepted", answer: control.answer },
      cases: cases.map((result) => {
        const fetched = fetches.filter((fetch) => fetch.caseId === result.id).map((fetch) => fetch.path);
        return fetched.length === 0 ? result : { ...result, fetched };
      }),
      exitCode: failed ? 1 : 0,
    };
    deps.write(formatReport(result, options.json === true));
    return result;
  } finally {
    await site.close();
  }
}
