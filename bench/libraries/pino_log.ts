/**
 * `lib/ops/log.ts` + `access_log.ts` rebuilt on pino, as an adopter would configure it to keep
 * our line shape (`level` as a name, ISO `time` from the injected clock, `msg`, no pid or
 * hostname) and our rules: an `error` field serialized without a stack (name, message, code,
 * cause), secrets redacted. Redaction comes in the two forms pino offers: `redact` paths (names
 * and wildcards, no patterns) or a `formatters.log` hook that walks the fields with our name
 * pattern (which is our own code again). Used to measure and check; not used by the product.
 * @module
 */
import type { RequestRecord } from "../../lib/http/router.ts";
import { pino } from "./deps.ts";

/** Our secret-name rule (`lib/ops/log.ts`), applied here at any depth. */
export const SECRET_NAME = /pass(word)?|secret|token|authorization|cookie|private|^d$/i;

/**
 * The closest `redact` paths can get to the rule: the rule's literal names, at the top and
 * one level down (pino's paths take `*` for one key, not for any depth nor a part of a name).
 */
export const REDACT_PATHS: readonly string[] = [
  "password",
  "pass",
  "secret",
  "token",
  "authorization",
  "cookie",
  "private",
  "d",
].flatMap((name) => [name, `*.${name}`]);

/** How the pino logger redacts. */
export type Redaction = "none" | "paths" | "walk";

/** Options of {@linkcode pinoLogger}. */
export interface PinoLoggerOptions {
  /** Where lines go: a pino destination or any object with `write(string)`. */
  destination: { write(line: string): unknown };
  /** Unix milliseconds now. */
  clock: () => number;
  level?: "debug" | "info" | "warn" | "error";
  redaction?: Redaction;
}

function cleanError(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) return value;
  const out: Record<string, unknown> = { name: value.name, message: value.message };
  if ("code" in value) out.code = (value as { code: unknown }).code;
  if (value.cause !== undefined && depth < 2) out.cause = cleanError(value.cause, depth + 1);
  return out;
}

/** A copy of `value` with every field whose name matches {@linkcode SECRET_NAME} redacted, at any depth. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return cleanError(value);
  if (value === null || typeof value !== "object" || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    out[name] = SECRET_NAME.test(name) ? "[redacted]" : redactDeep(item, depth + 1);
  }
  return out;
}

/** A pino logger that writes our line shape. */
export function pinoLogger(options: PinoLoggerOptions): ReturnType<typeof pino> {
  const redaction = options.redaction ?? "paths";
  let lastMs = Number.NaN;
  let lastTime = "";
  return pino(
    {
      level: options.level ?? "info",
      base: null,
      messageKey: "msg",
      timestamp: () => {
        const ms = options.clock();
        if (ms !== lastMs) {
          lastMs = ms;
          lastTime = `,"time":"${new Date(ms).toISOString()}"`;
        }
        return lastTime;
      },
      formatters: {
        level: (label) => ({ level: label }),
        ...(redaction === "walk"
          ? { log: (object: Record<string, unknown>) => redactDeep(object) as Record<string, unknown> }
          : {}),
      },
      // pino's own error serializer (pino-std-serializers) writes the stack; ours never does.
      serializers: { error: cleanError, err: cleanError },
      ...(redaction === "paths" ? { redact: { paths: [...REDACT_PATHS], censor: "[redacted]" } } : {}),
    },
    options.destination,
  );
}

/** The access-log hook on a pino logger: the same fields as `accessLog()`. */
export function pinoAccessLog(log: ReturnType<typeof pino>): (record: RequestRecord) => void {
  return (record) => {
    log.info({
      method: record.method.length > 16 ? record.method.slice(0, 16) : record.method,
      path: record.path.length > 256 ? `${record.path.slice(0, 256)}…` : record.path,
      route: record.route,
      status: record.status,
      ms: Math.round(record.ms * 1000) / 1000,
      ip: record.ip,
      requestId: record.requestId,
    }, "request");
  };
}
