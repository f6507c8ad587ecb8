/**
 * What the server says about its start: the banner a person at a terminal sees (where it
 * listens, the database, the mode, the key policy, and the development-secret warning in a box
 * that cannot be missed), each JSON log line rewritten as one readable line, the start-up
 * warnings as log lines for machines, and a refused start's hint on how to begin afresh.
 * Nothing here writes anywhere: the logger and the sink are the caller's.
 * @module
 */
import { AppError, hasCode } from "../core/errors.ts";
import { type MasterSecret, secretFileOf } from "../store/master_secret.ts";
import type { Logger } from "./log.ts";

/** The warning for a copy made without its WAL: the secret is there, the database was empty. */
export const EMPTY_COPY_WARNING = "the development secret file exists but the database had no keys: if it was " +
  "copied or restored, the copy is incomplete (a file copied without its -wal); use backup and restore";

/** Logs how the master secret was found, loudly when it is the development one. */
export function reportSecret(log: Logger, secret: MasterSecret, created: boolean): void {
  if (created && secret.source === "file") {
    log.warn("restore_may_be_incomplete", { file: secret.file, hint: EMPTY_COPY_WARNING });
  }
  if (secret.weak) {
    log.warn("weak_master_secret", { hint: "NOT_MY_KEY is shorter than 16 bytes; use 32 random bytes" });
  } else if (secret.source === "file") {
    log.warn("development_secret", {
      file: secret.file,
      hint: "NOT_MY_KEY is not set; using the development secret file",
    });
  } else if (secret.source === "created") {
    log.warn("development_secret_created", {
      file: secret.file,
      hint: "NOT_MY_KEY is not set: generated a master secret for DEVELOPMENT ONLY; set NOT_MY_KEY in production",
    });
  }
}

/**
 * `error`, when it is a wrong master secret for the database file `db`, with how to start
 * over (a student moving to the next project in the same folder); any other error as it is.
 */
export function withResetHint(error: unknown, db: string, isFile: boolean): unknown {
  if (!hasCode(error, "wrong_secret") || !isFile) return error;
  const files = [db, `${db}-wal`, `${db}-shm`, secretFileOf(db)].map((file) => `"${file}"`).join(" ");
  return new AppError(
    "wrong_secret",
    `${(error as Error).message}. To start over with a new database instead (its keys and users are lost): ` +
      `rm -f ${files}`,
    { cause: error },
  );
}

/** What the banner shows. */
export interface BannerInfo {
  readonly version: string;
  /** Where the server listens: `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly issuer: string;
  /** The database, as the store describes it (no password). */
  readonly db: string;
  readonly authMode: "open" | "password";
  readonly adminApi: boolean;
  /** `RS256, a new key every 24h, tokens live 15m`. */
  readonly keys: string;
  /** The development secret file in use, or null when `NOT_MY_KEY` is set. */
  readonly devSecretFile: string | null;
  /** Other warnings, one line each. */
  readonly warnings: readonly string[];
}

const ANSI = { bold: "\x1b[1m", dim: "\x1b[2m", yellow: "\x1b[33m", red: "\x1b[31m", reset: "\x1b[0m" };

/** `text` in `style` when `color`, else as it is. */
function paint(text: string, style: keyof typeof ANSI, color: boolean): string {
  return color ? `${ANSI[style]}${text}${ANSI.reset}` : text;
}

/** Lines in a box of `#`, for the warning no one may overlook (plain ASCII: any terminal shows it). */
function box(lines: readonly string[], color: boolean): string[] {
  const width = Math.max(...lines.map((line) => line.length));
  const rule = "#".repeat(width + 4);
  const body = lines.map((line) => `# ${line.padEnd(width)} #`);
  return [rule, ...body, rule].map((line) => `  ${paint(line, "yellow", color)}`);
}

/** The start banner, several lines. `color`: ANSI colours (a terminal without NO_COLOR). */
export function startBanner(info: BannerInfo, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const row = (name: string, value: string) => `  ${paint(name.padEnd(10), "dim", color)}  ${value}`;
  const mode = info.authMode === "open"
    ? "open: a mock issuer, anyone gets a token (registered users need their password)"
    : "password: registered users only (POST /register, or users add)";
  const lines = [
    "",
    `  ${paint(`jwks-server ${info.version}`, "bold", color)} listening on ${paint(info.url, "bold", color)}`,
    "",
    row("JWKS", `${info.url}/.well-known/jwks.json`),
    row("tokens", `POST ${info.url}/auth`),
    row("mode", mode),
    row("issuer", info.issuer),
    row("database", info.db),
    row("keys", info.keys),
    row("admin API", info.adminApi ? `on, ${info.url}/admin/keys (Bearer ADMIN_TOKEN)` : "off (set ADMIN_TOKEN)"),
    "",
  ];
  if (info.devSecretFile !== null) {
    lines.push(
      ...box([
        "WARNING: DEVELOPMENT MASTER SECRET",
        "NOT_MY_KEY is not set. The private keys are sealed with the secret in",
        `${info.devSecretFile}, next to the database: whoever has both has the keys.`,
        "Fine for a course project or a laptop. In production set NOT_MY_KEY.",
      ], color),
      "",
    );
  }
  for (const warning of info.warnings) lines.push(`  ${paint(`warning: ${warning}`, "yellow", color)}`, "");
  lines.push(paint("  Ctrl-C stops the server. Log lines follow.", "dim", color), "");
  return lines.join("\n");
}

const LEVEL_STYLE: Readonly<Record<string, keyof typeof ANSI>> = { warn: "yellow", error: "red", debug: "dim" };

/** A value as `key=value` shows it: strings bare unless they hold spaces, the rest as JSON. */
function shown(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/**
 * One JSON log line as a person reads it: `12:00:01 warn  key_policy_differs summary="…"`;
 * access-log lines as `12:00:01 GET /jwks 200 0.08 ms`. Text that is not a JSON object is
 * returned as it is.
 */
export function readableLine(line: string, options: { color?: boolean } = {}): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) return line;
  const color = options.color ?? false;
  const { time, level, msg, ...fields } = record;
  const clock = typeof time === "string" ? time.slice(11, 19) : "";
  if (msg === "request") {
    const { method, path, status, ms } = fields;
    return `${paint(clock, "dim", color)} ${method} ${path} ${status} ${ms} ms`;
  }
  const lvl = String(level ?? "info");
  const rest = Object.entries(fields).map(([key, value]) => `${key}=${shown(value)}`).join(" ");
  const head = paint(lvl.padEnd(5), LEVEL_STYLE[lvl] ?? "reset", color && lvl in LEVEL_STYLE);
  return `${paint(clock, "dim", color)} ${head} ${msg}${rest === "" ? "" : ` ${rest}`}`;
}
