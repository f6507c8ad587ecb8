/**
 * Structured logs: one JSON object per line with `time`, `level`, `msg` and fields. Members whose
 * names suggest a secret are redacted at any depth as a safety net; callers still never pass
 * secrets. The
 * sink and the clock are injected, so nothing here touches stdout or the system time.
 * @module
 */
import type { LogLevel } from "../settings/define.ts";

/** Extra structured fields of a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Writes structured log lines at or above its level. */
export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /**
   * Writes an `info` line whose fields the caller serialized already (`"a":1,"b":"x"`): the
   * access log's fast path, one line per request. The caller owns the field names (none may
   * name a secret) and must JSON-encode every value.
   */
  infoSerialized(msg: string, fields: string): void;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_NAME = /pass(word)?|secret|token|authorization|cookie|private|^d$/i;

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Receives each line, without a trailing newline. */
  write: (line: string) => void;
  /** Unix milliseconds now. */
  clock: () => number;
}

/** How deep a field's value is copied into a line; deeper parts are replaced by a marker. */
const MAX_DEPTH = 6;

/**
 * A copy of `value` fit for a log line: every member whose name looks like a secret is
 * redacted at any depth (`jwk.d`, `headers.cookie`, `keys[0].d`), errors keep their name, code,
 * message and cause (never a stack), and cycles or very deep values end in a marker.
 */
function clean(value: unknown, isSecret: (name: string) => boolean, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if ("code" in value) out.code = clean((value as { code: unknown }).code, isSecret, depth + 1, seen);
    // The cause carries the detail a client is not shown (a file path, the driver's words).
    if (value.cause !== undefined && depth < 2) out.cause = clean(value.cause, isSecret, depth + 1, seen);
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => clean(item, isSecret, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) {
    out[name] = isSecret(name) ? "[redacted]" : clean(member, isSecret, depth + 1, seen);
  }
  return out;
}

/** Makes a {@linkcode Logger}. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? "info";
  const min = RANK[level];
  // The access log writes a line per request: the time text is reused within a millisecond and
  // the redaction verdict is remembered per field name.
  let lastMs = Number.NaN;
  let lastTime = "";
  const secretName = new Map<string, boolean>();
  const isSecret = (name: string): boolean => {
    let secret = secretName.get(name);
    if (secret === undefined) {
      secret = SECRET_NAME.test(name);
      if (secretName.size < 1024) secretName.set(name, secret);
    }
    return secret;
  };
  const timeText = () => {
    const ms = options.clock();
    if (ms !== lastMs) {
      lastMs = ms;
      lastTime = new Date(ms).toISOString();
    }
    return lastTime;
  };
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    const line: Record<string, unknown> = { time: timeText(), level: lvl, msg };
    if (fields !== undefined) {
      for (const name of Object.keys(fields)) {
        line[name] = isSecret(name) ? "[redacted]" : clean(fields[name], isSecret);
      }
    }
    options.write(JSON.stringify(line));
  };
  return {
    level,
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    infoSerialized(msg, fields) {
      if (RANK.info < min) return;
      options.write(`{"time":"${timeText()}","level":"info","msg":${JSON.stringify(msg)},${fields}}`);
    },
  };
}

/** A logger that drops everything, for tests and quiet commands. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {}, clock: () => 0 });
