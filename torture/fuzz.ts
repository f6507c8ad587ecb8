/**
 * Hostile input: a seeded generator of requests no client should send (random methods, paths,
 * query strings, headers and content types; bodies up to 1 MiB of random bytes, invalid UTF-8,
 * deeply nested JSON, huge numbers, NUL bytes, SQL and path-traversal strings) and the judge of
 * the answers: never a 5xx, every error body JSON `{"error","message"}`, never a stack trace.
 * The same cases drive `handle()` in-process (`tests/fuzz_test.ts`) and the real server over
 * loopback (`runFuzz`), where a share is sent as raw bytes no `fetch` would produce.
 *
 * Run alone: `FUZZ_REQUESTS=2000 deno task torture fuzz` (SEED=… to replay).
 * @module
 */
import { type ServerProcess, spawnServer, waitListening } from "../tests/support/server_process.ts";
import { call, failureLog, sleep } from "./harness.ts";
import { createRng, type Rng } from "./prng.ts";

/** One generated request. `path` includes the query string. */
export interface FuzzCase {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array<ArrayBuffer> | null;
  /** What kind of body, for reports. */
  readonly kind: string;
}

/** The usernames and password of the user every fuzz target is seeded with. */
export const FUZZ_USER = { username: "fuzzer", password: "fuzz-password-0123456789" } as const;

const NASTY = [
  "' OR '1'='1",
  "'; DROP TABLE keys; --",
  "admin'--",
  "1; SELECT * FROM users",
  '" OR ""="',
  "../../../../etc/passwd",
  "..\\..\\..\\windows\\win.ini",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "/dev/null",
  "\u0000",
  "a\u0000b",
  "\u202e\u200b\ufeff",
  "𝕦𝕟𝕚𝕔𝕠𝕕𝕖",
  "${jndi:ldap://127.0.0.1/a}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "userABC",
  FUZZ_USER.username,
  "",
  " ",
  "x".repeat(65),
  "x".repeat(5000),
];
const METHODS = [
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
  "get",
  "Post",
  "PROPFIND",
  "FOO",
  "X".repeat(40),
];
const PATHS = [
  "/.well-known/jwks.json",
  "/jwks",
  "/auth",
  "/register",
  "/.well-known/openid-configuration",
  "/.well-known/oauth-authorization-server",
  "/healthz",
  "/readyz",
  "/",
  "/jwks/",
  "/JWKS",
  "/auth/",
  "/auth/../jwks",
  "/../../../etc/passwd",
  "/%2e%2e/%2e%2e/etc/passwd",
  "/..%2f..%2fetc%2fpasswd",
  "//auth",
  "/.well-known/",
  "/.well-known/jwks.json%00",
  "/auth%00.json",
  "/admin/keys",
  "/register;jsessionid=1",
  "/%ff%fe",
  "/" + "a".repeat(3000),
  "/" + "%41".repeat(500),
  "/\u00e9t\u00e9",
];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/x-www-form-urlencoded",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/jwt",
  "application/vnd.api+json",
  "APPLICATION/JSON",
  "application/json; charset=latin1",
  "*/*",
  "",
  ";;;",
  "a".repeat(300),
];
const HEADER_NAMES = [
  "authorization",
  "x-forwarded-for",
  "x-request-id",
  "if-none-match",
  "accept",
  "accept-encoding",
  "origin",
  "cookie",
  "range",
  "expect",
  "x-http-method-override",
  "access-control-request-method",
  "x-a",
  "x-" + "b".repeat(100),
];

const encoder = new TextEncoder();

function nasty(rng: Rng): string {
  return rng.pick(NASTY);
}

function jsonValue(rng: Rng, depth = 0): unknown {
  const roll = rng.int(0, depth > 3 ? 6 : 9);
  switch (roll) {
    case 0:
      return nasty(rng);
    case 1:
      return rng.pick([0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.1, 123456789012345678901234567890]);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return "x".repeat(rng.int(0, 2000));
    case 4:
      return crypto.randomUUID();
    case 5:
      return `${rng.pick(["user", "a", "Z9"])}${rng.int(0, 1e6)}@example.com`;
    case 6:
      return String.fromCharCode(...Array.from({ length: rng.int(1, 20) }, () => rng.int(0, 0xffff)));
    case 7:
      return Array.from({ length: rng.int(0, 4) }, () => jsonValue(rng, depth + 1));
    default: {
      const out: Record<string, unknown> = Object.create(null); // so "__proto__" is a plain member
      for (let i = rng.int(0, 4); i > 0; i--) {
        out[rng.pick(["username", "password", "email", "__proto__", "a"])] = jsonValue(rng, depth + 1);
      }
      return out;
    }
  }
}

function textBody(rng: Rng): { text: string; kind: string } {
  switch (rng.int(0, 11)) {
    case 0:
      return { text: JSON.stringify(jsonValue(rng)), kind: "json" };
    case 1: {
      const depth = rng.int(100, 40_000);
      const open = rng.pick(["[", '{"a":']);
      const close = open === "[" ? "]" : "}";
      return { text: open.repeat(depth) + "1" + close.repeat(rng.chance(0.8) ? depth : 0), kind: "nested json" };
    }
    case 2:
      return {
        text: `{"username": ${rng.pick(["1e999999", "-1e999999", "9".repeat(5000), "NaN", "0x10"])}}`,
        kind: "huge number",
      };
    case 3:
      return {
        text: JSON.stringify({ username: nasty(rng), password: nasty(rng), email: nasty(rng) }),
        kind: "nasty json",
      };
    case 4:
      return {
        text: `username=${encodeURIComponent(nasty(rng))}&password=${encodeURIComponent(nasty(rng))}&email=${
          encodeURIComponent(nasty(rng))
        }`,
        kind: "form",
      };
    case 5:
      return {
        text: rng.pick(["{", "}", '{"username":', "null", "[]", '"x"', "{}", '{"a":1,}', "\u0000"]),
        kind: "broken json",
      };
    case 6:
      return {
        text: JSON.stringify({ username: `f${rng.int(0, 1e9)}`, email: `f${rng.int(0, 1e9)}@example.com` }),
        kind: "valid registration",
      };
    case 7:
      return { text: JSON.stringify(FUZZ_USER), kind: "valid login" };
    case 8:
      return { text: "%".repeat(rng.int(1, 100)) + "=&&==&" + "a=".repeat(rng.int(0, 2000)), kind: "bad form" };
    case 9:
      return { text: `{"username":"a\u0000b","password":"\u0000"}`, kind: "nul json" };
    default:
      return { text: JSON.stringify(FUZZ_USER).replace("fuzz-password", "wrong-password"), kind: "wrong login" };
  }
}

function body(rng: Rng): { body: Uint8Array<ArrayBuffer> | null; kind: string } {
  const roll = rng.next();
  if (roll < 0.15) return { body: null, kind: "none" };
  if (roll < 0.25) {
    // Random bytes, mostly invalid UTF-8; a few large ones, up to 1 MiB.
    const size = rng.chance(0.1) ? rng.int(64 * 1024, 1024 * 1024) : rng.int(1, 2000);
    return { body: rng.bytes(size), kind: size > 64 * 1024 ? "large random" : "random bytes" };
  }
  if (roll < 0.3) {
    const bytes = encoder.encode(JSON.stringify({ username: "x", password: "y" }));
    const out = new Uint8Array(bytes.length + 2);
    out.set(bytes);
    out.set([0xc3, 0x28], rng.int(1, bytes.length)); // an invalid UTF-8 pair mid-document
    return { body: out, kind: "invalid utf-8" };
  }
  if (roll < 0.33) return { body: encoder.encode("{".repeat(rng.int(64 * 1024, 200 * 1024))), kind: "oversized json" };
  const { text, kind } = textBody(rng);
  return { body: encoder.encode(text), kind };
}

function query(rng: Rng): string {
  switch (rng.int(0, 9)) {
    case 0:
    case 1:
    case 2:
      return "";
    case 3:
      return "?" +
        rng.pick(["expired", "expired=true", "expired=false", "expired=1", "expired=maybe", "expired=&expired=true"]);
    case 4:
      return "?expired=" + encodeURIComponent(nasty(rng));
    case 5:
      return "?" + "a=b&".repeat(rng.int(1, 500));
    case 6:
      return "?%zz=%";
    case 7:
      return "?" + encodeURIComponent(nasty(rng)) + "=" + encodeURIComponent(nasty(rng));
    case 8:
      return "?expired=true#fragment";
    default:
      return "?q=" + "%00".repeat(rng.int(1, 50));
  }
}

function headerValue(rng: Rng): string {
  switch (rng.int(0, 7)) {
    case 0:
      return "Basic " + btoa(`${FUZZ_USER.username}:${FUZZ_USER.password}`);
    case 1:
      return "Basic " + rng.pick(["!!!", "=", btoa("no-colon"), btoa("\u00ff:\u00fe"), "a".repeat(2000)]);
    case 2:
      return "Bearer " + Array.from(rng.bytes(32), (b) => b.toString(16).padStart(2, "0")).join("");
    case 3:
      return rng.pick(["*", 'W/"x"', '"x", "y"', "1.2.3.4, 5.6.7.8", "::1", "not-an-ip", "0-0"]);
    case 4:
      return "x".repeat(rng.int(1, 4000));
    case 5:
      // Latin-1 bytes: valid in a header, invalid as UTF-8.
      return String.fromCharCode(...Array.from({ length: rng.int(1, 30) }, () => rng.int(0x80, 0xff)));
    case 6:
      // Header values must be Latin-1 without control characters, or fetch refuses to send them.
      return [...nasty(rng)].map((c) => (c < " " || c === "\u007f" ? "" : c > "\u00ff" ? "?" : c)).join("");
    default:
      return String(rng.int(-1, 1e12));
  }
}

/** Generates one request. */
export function fuzzCase(rng: Rng): FuzzCase {
  // Most requests go to real endpoints, where parsing happens; some go anywhere.
  const base = rng.chance(0.8) ? rng.pick(PATHS.slice(0, 8)) : rng.pick(PATHS);
  const fitting = base === "/auth" || base === "/register" ? "POST" : "GET";
  const method = rng.chance(0.75) ? fitting : rng.pick(METHODS);
  const path = base + query(rng);
  const headers: [string, string][] = [];
  const type = rng.chance(0.8) ? rng.pick(CONTENT_TYPES) : null;
  if (type !== null) headers.push(["content-type", type]);
  for (let i = rng.int(0, 3); i > 0; i--) headers.push([rng.pick(HEADER_NAMES), headerValue(rng)]);
  const sendsBody = method !== "GET" && method !== "HEAD" && method !== "get";
  const made = sendsBody ? body(rng) : { body: null, kind: "none" };
  return { method, path, headers, body: made.body, kind: made.kind };
}

/** What was wrong with an answer, or null when it keeps the promises. */
export function judge(fuzz: FuzzCase, status: number, contentType: string | null, text: string): string | null {
  if (status >= 500) return `${status} ${text.slice(0, 200)}`;
  if (/\bat .*\.(ts|js):\d+|Error: |node_modules|file:\/\//.test(text)) {
    return `a stack trace or path in the body: ${text.slice(0, 200)}`;
  }
  if (status >= 400 && fuzz.method !== "HEAD") {
    if (!(contentType ?? "").startsWith("application/json")) return `${status} with content type ${contentType}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return `${status} with a body that is not JSON: ${text.slice(0, 200)}`;
    }
    const error = parsed as { error?: unknown; message?: unknown };
    if (typeof error.error !== "string" || typeof error.message !== "string") {
      return `${status} without {"error","message"}: ${text.slice(0, 200)}`;
    }
  }
  return null;
}

/** Describes a case for a failure line, without its (possibly 1 MiB) body. */
export function describeCase(fuzz: FuzzCase): string {
  const path = fuzz.path.length > 80 ? fuzz.path.slice(0, 80) + "…" : fuzz.path;
  return `${fuzz.method.slice(0, 20)} ${path} [${fuzz.kind}, ${fuzz.body?.byteLength ?? 0} bytes]`;
}

/** Options of {@linkcode runFuzz}. */
export interface FuzzOptions {
  requests: number;
  seed: number;
  /** Concurrent clients. Default 8. */
  concurrency?: number;
  /** Share of requests sent as raw bytes over TCP. Default 0.05. */
  rawShare?: number;
  log?: (line: string) => void;
}

/** What a fuzz run did and found. */
export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly raw: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** Raw requests the HTTP parser refused or closed before they reached the app. */
  readonly parserRejected: number;
  readonly errorLogLines: number;
  readonly seconds: number;
  readonly failures: readonly string[];
}

const RAW_TEMPLATES: readonly ((rng: Rng) => Uint8Array)[] = [
  // Invalid UTF-8 and NUL bytes in the request line and headers.
  (rng) =>
    concat(encoder.encode("GET /jwks"), rng.bytes(rng.int(1, 20)), encoder.encode(" HTTP/1.1\r\nHost: x\r\n\r\n")),
  (rng) =>
    concat(
      encoder.encode("POST /auth HTTP/1.1\r\nHost: x\r\nX-A: "),
      rng.bytes(rng.int(1, 50)),
      encoder.encode("\r\nContent-Length: 2\r\n\r\n{}"),
    ),
  () => encoder.encode("GET /jwks\u0000 HTTP/1.1\r\nHost: x\r\n\r\n"),
  // Framing lies: short bodies, conflicting lengths, broken chunks.
  (rng) =>
    encoder.encode(
      `POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${
        rng.int(10, 1000)
      }\r\n\r\n{"user`,
    ),
  () => encoder.encode("POST /auth HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}{"),
  () => encoder.encode("POST /auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
  () =>
    encoder.encode(
      "POST /auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\n{}}\r\n0\r\n\r\n",
    ),
  (rng) =>
    encoder.encode(
      `POST /register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${
        (rng.int(1, 1e6)).toString(16)
      }\r\n{"a":`,
    ),
  // Odd request lines and versions.
  () => encoder.encode("GET /jwks HTTP/1.0\r\n\r\n"),
  () => encoder.encode("GET /jwks HTTP/9.9\r\nHost: x\r\n\r\n"),
  () => encoder.encode("GET\r\n\r\n"),
  () => encoder.encode("\r\n\r\n\r\n"),
  () => encoder.encode("GET /jwks HTTP/1.1\nHost: x\n\n"),
  (rng) => encoder.encode(`GET /${"a".repeat(rng.int(10_000, 100_000))} HTTP/1.1\r\nHost: x\r\n\r\n`),
  (rng) => encoder.encode(`GET /jwks HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(rng.int(10_000, 200_000))}\r\n\r\n`),
  () => encoder.encode("TRACE /auth HTTP/1.1\r\nHost: x\r\n\r\n"),
  () => encoder.encode("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n"),
  (rng) =>
    concat(
      encoder.encode(
        "POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n",
      ),
      rng.bytes(300),
    ),
  // Pipelined requests, one of them broken.
  () =>
    encoder.encode(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /jwks HTTP/1.1\r\nHost: x\r\n\r\nPOST /auth HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{",
    ),
];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Sends raw bytes, reads until the server closes or `timeoutMs`; returns what came back. */
export async function rawExchange(port: number, bytes: Uint8Array, timeoutMs = 3000): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }, timeoutMs);
  const chunks: Uint8Array[] = [];
  try {
    try {
      await conn.write(bytes);
      await conn.closeWrite();
    } catch {
      // the server may close before reading everything
    }
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
  return new TextDecoder().decode(concat(...chunks));
}

/** Splits raw HTTP/1.1 responses into (status, content type, body) triples. */
export function parseRawResponses(text: string): { status: number; contentType: string | null; body: string }[] {
  const out: { status: number; contentType: string | null; body: string }[] = [];
  let rest = text;
  while (rest.startsWith("HTTP/")) {
    const headEnd = rest.indexOf("\r\n\r\n");
    if (headEnd < 0) break;
    const head = rest.slice(0, headEnd).split("\r\n");
    const status = Number(head[0]!.split(" ")[1]);
    const headers = new Map(
      head.slice(1).map((line) => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
      }),
    );
    const length = Number(headers.get("content-length") ?? 0);
    const bodyText = rest.slice(headEnd + 4, headEnd + 4 + length);
    out.push({ status, contentType: headers.get("content-type") ?? null, body: bodyText });
    rest = rest.slice(headEnd + 4 + length);
  }
  return out;
}

/** Fuzzes a freshly started real server over loopback. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const dir = await Deno.makeTempDir({ prefix: "jwks-fuzz-" });
  const { failures, fail } = failureLog(log);
  const byStatus: Record<string, number> = {};
  let raw = 0;
  let parserRejected = 0;
  let sent = 0;
  let server: ServerProcess | null = null;
  try {
    server = spawnServer({
      cwd: dir,
      args: ["--rate-limit", "off", "--seed-user", `${FUZZ_USER.username}:${FUZZ_USER.password}`],
      env: { NOT_MY_KEY: "fuzz master secret, 32 bytes long" },
    });
    const url = await waitListening(server);
    const port = Number(new URL(url).port);
    const rng = createRng(options.seed);
    const cases = Array.from({ length: options.requests }, () => rng.next());
    const worker = async (id: number) => {
      const wrng = rng.fork(`worker ${id}`);
      for (let i = sent++; i < cases.length; i = sent++) {
        if (!server!.running()) return;
        const fuzz = fuzzCase(createRng(Math.floor(cases[i]! * 4294967296)));
        if (wrng.chance(options.rawShare ?? 0.05)) {
          raw++;
          const bytes = wrng.pick(RAW_TEMPLATES)(wrng);
          const answers = parseRawResponses(await rawExchange(port, bytes));
          if (answers.length === 0) parserRejected++;
          for (const answer of answers) {
            byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
            if (answer.status >= 500) fail(`raw request: ${answer.status} ${answer.body.slice(0, 200)}`);
            // The HTTP parser's own refusals carry no body; the app's always carry JSON.
            else if (answer.body === "" && answer.status >= 400) parserRejected++;
            else if (answer.status >= 400) {
              const problem = judge({ ...fuzz, method: "POST" }, answer.status, answer.contentType, answer.body);
              if (problem !== null) fail(`raw request: ${problem}`);
            }
          }
          continue;
        }
        const outcome = await call(`${url}${fuzz.path}`, {
          method: fuzz.method,
          headers: fuzz.headers as [string, string][],
          body: fuzz.body,
        }, 15_000);
        if (!outcome.ok) {
          // fetch itself refuses some cases (forbidden methods, bad header bytes): not the server's doing.
          if (/invalid|forbidden|not a valid|header/i.test(outcome.error)) {
            byStatus["refused by fetch"] = (byStatus["refused by fetch"] ?? 0) + 1;
            continue;
          }
          fail(`${describeCase(fuzz)}: ${outcome.error}`);
          continue;
        }
        byStatus[outcome.status] = (byStatus[outcome.status] ?? 0) + 1;
        const problem = judge(fuzz, outcome.status, outcome.headers.get("content-type"), outcome.text);
        if (problem !== null) fail(`${describeCase(fuzz)}: ${problem}`);
        if (i > 0 && i % 5000 === 0) log(`fuzz: ${i}/${cases.length}`);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, (_, id) => worker(id)));
    await sleep(100);
    if (!server.running()) fail(`the server died: ${server.stderr().slice(0, 500)}`);
    const health = await call(`${url}/healthz`);
    if (!health.ok || health.status !== 200) fail("the server does not answer /healthz after the run");
    const code = await server.stop("SIGTERM");
    if (code !== 0) fail(`a graceful stop after the run exited ${code}`);
    if (/panic|Uncaught/i.test(server.stderr())) fail(`stderr: ${server.stderr().slice(0, 500)}`);
    for (const line of server.lines) {
      if (line.includes('"level":"error"')) fail(`server logged an error: ${line.slice(0, 300)}`);
    }
  } finally {
    await server?.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
  return {
    seed: options.seed,
    requests: options.requests,
    raw,
    byStatus,
    parserRejected,
    errorLogLines: server?.errorLines() ?? 0,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    failures,
  };
}

/** The report as table rows. */
export function fuzzRows(report: FuzzReport): [string, string | number][] {
  const statuses = Object.entries(report.byStatus).sort(([a], [b]) => a.localeCompare(b));
  return [
    ["requests", report.requests],
    ["  of which raw TCP", report.raw],
    ...statuses.map(([status, n]): [string, number] => [`  answered ${status}`, n]),
    ["  refused by the HTTP parser", report.parserRejected],
    ["5xx answers", statuses.filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0)],
    ["error log lines", report.errorLogLines],
    ["failures", report.failures.length],
    ["seconds", report.seconds],
  ];
}
