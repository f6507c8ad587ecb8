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
  return (record) => {
    const { path } = record;
    log.info("request", {
      method: record.method.length > 16 ? record.method.slice(0, 16) : record.method,
      path: path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path,
      route: record.route,
      status: record.status,
      ms: Math.round(record.ms * 1000) / 1000,
      ip: record.ip,
      requestId: record.requestId,
    });
  };
}
