/**
 * The Prometheus text exposition format (version 0.0.4): escaping of label values and help
 * text, sample values (`+Inf`, `NaN`), and a writer that puts HELP and TYPE before each family's
 * samples. Knows no metric by name; `metrics.ts` owns them.
 * @module
 */

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Escapes HELP text: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** `{a="x",b="y"}` for the given label pairs, escaped; empty string for none. */
export function labelText(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** A sample value as the text format writes it (`+Inf`, `-Inf`, `NaN` included). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Writes families in the text format: HELP and TYPE once, then the samples. */
export class Exposition {
  readonly lines: string[] = [];

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: string, value: number): this {
    this.lines.push(`${name}${labels} ${formatValue(value)}`);
    return this;
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}
