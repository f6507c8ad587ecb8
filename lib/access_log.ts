/**
 * The access log: one structured line per answered request (`msg: "request"` with method, path,
 * route, status, duration in ms, client IP and request id), written through a `Logger` at
 * `info`. It logs the path only: no query string, no header, no body, so no credential a
 * client sends can reach the log.
 * @module
 */
import type { RequestRecord } from "./http.ts";
import type { Logger } from "./log.ts";

/** Longest path written; longer ones are cut and marked with `…`. */
export const MAX_LOGGED_PATH = 256;

/** Makes the `HttpDeps.onRequest` hook that writes one access-log line per request to `log`. */
export function accessLog(log: Logger): (record: RequestRecord) => void {
  if (log.level !== "debug" && log.level !== "info") return () => {};
  // One line per request: the fields are serialized straight into the line, which costs about
  // half of building an object for the generic logger (bench/jwks_bench.ts prices both).
  return (record) => {
    const { path, method } = record;
    const shownMethod = method.length > 16 ? method.slice(0, 16) : method;
    const shownPath = path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
    const ms = Math.round(record.ms * 1000) / 1000;
    log.infoSerialized(
      "request",
      `"method":${JSON.stringify(shownMethod)},"path":${JSON.stringify(shownPath)},"route":${
        JSON.stringify(record.route)
      },"status":${record.status},"ms":${ms},"ip":${JSON.stringify(record.ip)},"requestId":${
        JSON.stringify(record.requestId)
      }`,
    );
  };
}
