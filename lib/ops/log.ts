/**
 * Structured logs: one JSON object per line with `time`, `level`, `msg` and fields. Fields whose
 * names suggest a secret are redacted as a safety net; callers still never pass secrets. The
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

function clean(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if ("code" in value) out.code = (value as { code: unknown }).code;
    // The cause carries the detail a client is not shown (a file path, the driver's words).
    if (value.cause !== undefined && depth < 2) out.cause = clean(value.cause, depth + 1);
    return out;
  }
  return value;
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
        let secret = secretName.get(name);
        if (secret === undefined) {
          secret = SECRET_NAME.test(name);
          if (secretName.size < 1024) secretName.set(name, secret);
        }
        line[name] = secret ? "[redacted]" : clean(fields[name]);
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
