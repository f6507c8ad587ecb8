/**
 * The access log: one structured line per answered request (`msg: "request"` with method, path,
 * route, status, duration in ms, client IP and request id), written through a `Logger` at
 * `info`. It logs the path only: no query string, no header, no body, so no credential a
 * client sends can reach the log.
 * @module
 */
import type { RequestRecord } from "../http/router.ts";
import type { Logger } from "./log.ts";

/** Longest path written; longer ones are cut and marked with `…`. */
export const MAX_LOGGED_PATH = 256;

/** Anything but printable ASCII other than `"` and `\`: characters JSON would escape (or may). */
const NEEDS_ESCAPE = /[^\x20-\x7e]|["\\]/;

/** `text` as a JSON string; skips `JSON.stringify` for the plain ASCII of nearly every field. */
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** Milliseconds with three decimals, from whole microseconds (integer formatting is cheaper). */
function millis(ms: number): string {
  const us = Math.round(ms * 1000);
  const frac = us % 1000;
  return `${(us - frac) / 1000}.${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}`;
}

/** Makes the `HttpDeps.onRequest` hook that writes one access-log line per request to `log`. */
export function accessLog(log: Logger): (record: RequestRecord) => void {
  if (log.level !== "debug" && log.level !== "info") return () => {};
  // One line per request, so every field is serialized straight into the line: no object for
  // the generic logger, no JSON.stringify unless the path holds a character that needs escaping
  // (measured: ~600 ns a line with JSON.stringify on every field, ~200 ns like this).
  return (record) => {
    const { path, method } = record;
    const shownMethod = method.length > 16 ? method.slice(0, 16) : method;
    const shownPath = path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
    // The method is an HTTP token (the Request constructor enforces it), the route a name from
    // our table, the IP an address and the request id matched a strict pattern or is a UUID:
    // none can hold a character to escape. Only the path is checked.
    log.infoSerialized(
      "request",
      `"method":"${shownMethod}","path":${quote(shownPath)},"route":"${record.route}","status":${record.status},"ms":${
        millis(record.ms)
      },"ip":"${record.ip}","requestId":"${record.requestId}"`,
    );
  };
}
