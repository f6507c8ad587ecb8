/**
 * Structured logs: one JSON object per line with `time`, `level`, `msg` and fields. Fields whose
 * names suggest a secret are redacted as a safety net; callers still never pass secrets. The
 * sink and the clock are injected, so nothing here touches stdout or the system time.
 * @module
 */
import type { LogLevel } from "./config.ts";

/** Extra structured fields of a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Writes structured log lines at or above its level. */
export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
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

function clean(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if ("code" in value) out.code = (value as { code: unknown }).code;
    return out;
  }
  return value;
}

/** Makes a {@linkcode Logger}. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? "info";
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    const line: Record<string, unknown> = { time: new Date(options.clock()).toISOString(), level: lvl, msg };
    if (fields !== undefined) {
      for (const [name, value] of Object.entries(fields)) {
        line[name] = SECRET_NAME.test(name) ? "[redacted]" : clean(value);
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
  };
}

/** A logger that drops everything, for tests and quiet commands. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {}, clock: () => 0 });
