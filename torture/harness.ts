/**
 * Plumbing for the reliability runs: bounded HTTP calls that report a dead server as an outcome
 * rather than a throw, RSS and descriptor sampling from `/proc`, the failure log and the
 * summary table. The servers come from the one launcher the tests use
 * (`tests/support/server_process.ts`). Loopback only, ephemeral ports only.
 * @module
 */

/** Resolves after `ms`. Used only where the scenario itself is about time (kill moments, trickles, soak). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A finished HTTP exchange, or the transport error that ended it. */
export type Outcome =
  | { readonly ok: true; readonly status: number; readonly headers: Headers; readonly text: string }
  | { readonly ok: false; readonly error: string };

/** `fetch` options, with Deno's own HTTP client when a run needs to close its connections. */
export type CallInit = RequestInit & { client?: Deno.HttpClient };

/** `fetch` bounded by `timeoutMs`, reading the whole body; never throws. */
export async function call(url: string, init: CallInit = {}, timeoutMs = 10_000): Promise<Outcome> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return { ok: true, status: response.status, headers: response.headers, text };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** A JSON POST. */
export function postJson(url: string, body: unknown, timeoutMs?: number): Promise<Outcome> {
  return call(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }, timeoutMs);
}

/** Resident set size of `pid` in KiB, from `/proc/PID/status`. */
export function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return match === null ? Number.NaN : Number(match[1]);
}

/** Open file descriptors of `pid`, from `/proc/PID/fd`. */
export function fdCount(pid: number): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}

/** Renders rows as a two-column Markdown table. */
export function table(
  title: string,
  rows: readonly (readonly [string, string | number])[],
  headers: readonly [string, string] = ["what", "value"],
): string {
  const width = Math.max(headers[0].length, ...rows.map(([name]) => name.length));
  const valueWidth = Math.max(headers[1].length, ...rows.map(([, value]) => String(value).length));
  const line = (a: string, b: string) => `| ${a.padEnd(width)} | ${b.padStart(valueWidth)} |`;
  return [
    `${title}`,
    line(headers[0], headers[1]),
    `| ${"-".repeat(width)} | ${"-".repeat(valueWidth - 1)}: |`,
    ...rows.map(([name, value]) => line(name, String(value))),
  ].join("\n");
}

/** Canonical text of a public JWK (sorted members), to compare keys published under one kid. */
export function canonicalJwk(jwk: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(jwk).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** The failures a run collects: the first 100 are kept, every one is logged as it happens. */
export function failureLog(log: (line: string) => void): { failures: string[]; fail(message: string): void } {
  const failures: string[] = [];
  return {
    failures,
    fail(message) {
      if (failures.length < 100) failures.push(message);
      log(`FAIL ${message}`);
    },
  };
}
