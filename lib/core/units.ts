/**
 * The text forms of quantities, parsed in one place for settings, flags and commands:
 * durations (`900`, `15m`, `1h`, `7d`), sizes (`64KiB`, `1MiB`), rates (`10/s`, `off`) and
 * booleans. Each parser returns null (or undefined) for text it does not accept; callers say
 * which setting was wrong.
 * @module
 */

/** A sliding-window rate: `limit` requests per `windowMs`. */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a duration: a whole number with an optional unit `ms`, `s`, `m`, `h` or `d` (seconds
 * when bare). Returns seconds, or null when the text is not a duration.
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) return null;
  return Number(match[1]) * DURATION_UNITS[match[2] ?? "s"]!;
}

/** Seconds as the shortest duration text that parses back to them: `90s`, `2m`, `36h`, `7d`. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1, b: 1, kib: 1024, kb: 1000, mib: 1024 ** 2, mb: 1e6 };

/** Parses a size in bytes: `1048576`, `64KiB`, `1MiB` (or kB/MB). Null when not a size. */
export function parseSize(text: string): number | null {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const factor = match === null ? undefined : SIZE_UNITS[match[2]!.toLowerCase()];
  return factor === undefined ? null : Number(match![1]) * factor;
}

/** Parses `N/s`, `N/m`, `N/h`, `N/500ms` into a {@linkcode RateLimit}; `off` is null; else undefined. */
export function parseRateLimit(text: string): RateLimit | null | undefined {
  const value = text.trim().toLowerCase();
  if (value === "off" || value === "none" || value === "0") return null;
  const match = /^(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h)$/.exec(value);
  if (match === null) return undefined;
  const limit = Number(match[1]);
  const windowMs = Number(match[2] || "1") * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[3] as "s"];
  if (limit < 1 || windowMs < 1) return undefined;
  return { limit, windowMs };
}

/** Parses `true/false`, `1/0`, `yes/no`, `on/off` (empty is false); undefined for anything else. */
export function parseBoolean(text: string): boolean | undefined {
  const value = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off", ""].includes(value)) return false;
  return undefined;
}
