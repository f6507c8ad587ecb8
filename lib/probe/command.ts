/**
 * The `probe` command as the CLI table calls it: validates the flag values it is handed
 * (method, `--header "K: V"`, expected status, timeout), unseals this server's keys from the
 * records and sealer the caller opened (exactly as the `keys` commands open the database), and
 * runs the probe. Parsing argv and opening the database are the caller's job.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { KeyRecord } from "../core/key_lifecycle.ts";
import type { Sealer } from "../core/seal.ts";
import { parseDuration } from "../core/units.ts";
import { probeKeysFromRecords } from "./keys.ts";
import { type ProbeDeps, runProbe } from "./run.ts";

/** The flag values of `probe URL …`, as the CLI parsed them (strings unless noted). */
export interface ProbeCommandOptions {
  /** The positional URL. */
  readonly url: string | undefined;
  /** `--issuer`, else the server's configured issuer. */
  readonly issuer: string;
  /** `--audience`, else the server's configured audience (null: audience cases skipped). */
  readonly audience?: string | null;
  /** `--method`. Default GET. */
  readonly method?: string;
  /** `--header "K: V"`, repeatable. */
  readonly header?: string | readonly string[];
  /** `--body`. */
  readonly body?: string;
  /** `--expect-status`. Default 200. */
  readonly expectStatus?: string | number;
  /** `--timeout`: a duration such as `5s` or `500ms`, or seconds. Default 5 s. */
  readonly timeout?: string | number;
  /** `--json`. */
  readonly json?: boolean;
}

/** What the command needs from outside: the stored keys and the runner's dependencies. */
export interface ProbeCommandDeps extends ProbeDeps {
  /** Every key record of the server's database and the sealer that opens them. */
  readonly keys: { readonly records: readonly KeyRecord[]; readonly sealer: Sealer };
}

function usage(message: string): AppError {
  return new AppError("usage", `${message} (see "jwks-server probe --help")`);
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses `--header "Name: value"` values. Authorization is the probe's own. */
export function parseHeaders(values: string | readonly string[] | undefined): [string, string][] {
  const list = values === undefined ? [] : typeof values === "string" ? [values] : values;
  return list.map((text) => {
    const colon = text.indexOf(":");
    const name = colon < 0 ? "" : text.slice(0, colon).trim();
    if (!TOKEN.test(name)) throw usage(`Invalid --header "${text.slice(0, 60)}": expected "Name: value"`);
    if (name.toLowerCase() === "authorization") {
      throw usage("--header cannot set Authorization: the probe sends its own bearer tokens");
    }
    return [name, text.slice(colon + 1).trim()];
  });
}

function statusOf(value: string | number | undefined): number {
  if (value === undefined) return 200;
  const status = Number(value);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw usage(`Invalid --expect-status "${value}": expected an HTTP status such as 200`);
  }
  return status;
}

function timeoutOf(value: string | number | undefined): number {
  if (value === undefined) return 5000;
  const seconds = typeof value === "number" ? value : parseDuration(value);
  if (seconds === null || !(seconds > 0) || seconds > 600) {
    throw usage(`Invalid --timeout "${value}": expected a duration such as 5s or 500ms, at most 10m`);
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/**
 * Runs `probe` and returns its exit code: 0 all forged tokens rejected, 1 one accepted or
 * unanswered, 2 control not accepted or target unreachable. Throws `usage` for bad flag values
 * and `no_signing_key` when no stored key signs now.
 *
 * @example
 * ```ts
 * const code = await runProbeCommand(
 *   { url: "http://127.0.0.1:8081/", issuer: config.issuer, audience: "my-api" },
 *   { keys: { records: await store.listKeys(), sealer }, clock: Date.now, write: (text) => console.log(text) },
 * );
 * ```
 */
export async function runProbeCommand(options: ProbeCommandOptions, deps: ProbeCommandDeps): Promise<number> {
  if (options.url === undefined || options.url === "") throw usage("Missing URL of the API to probe");
  const method = options.method ?? "GET";
  if (!TOKEN.test(method)) throw usage(`Invalid --method "${method.slice(0, 20)}"`);
  if (options.issuer === "") throw usage("Invalid --issuer: expected the iss the target expects");
  const headers = parseHeaders(options.header);
  const expectStatus = statusOf(options.expectStatus);
  const timeoutMs = timeoutOf(options.timeout);
  const { keys: stored, ...runDeps } = deps;
  const keys = await probeKeysFromRecords(stored.records, stored.sealer, Math.floor(deps.clock() / 1000));
  const report = await runProbe({
    url: options.url,
    keys,
    issuer: options.issuer,
    audience: options.audience === "" ? null : options.audience ?? null,
    method,
    headers,
    expectStatus,
    timeoutMs,
    json: options.json === true,
    ...(options.body === undefined ? {} : { body: options.body }),
  }, runDeps);
  return report.exitCode;
}
