/**
 * A strict reader of the Prometheus text format (0.0.4) for tests: it rejects what a scraper
 * would reject (a sample before its family's TYPE, a family split in two, a bad label escape,
 * non-cumulative histogram buckets) and lets tests look samples up by name and labels.
 * @module
 */
import assert from "node:assert/strict";
import { METRICS_CONTENT_TYPE } from "../../lib/ops/metrics.ts";
import { type TestApp } from "./helpers.ts";

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family: its HELP, TYPE and samples in order. */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    assert.ok(eq > i, `label name expected in {${text}}`);
    const name = text.slice(i, eq);
    assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
    assert.equal(text[eq + 1], '"', `label ${name} must be quoted`);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      assert.ok(c !== undefined, `unterminated label ${name}`);
      if (c === '"') break;
      if (c === "\\") {
        const next = text[j + 1];
        assert.ok(next === "\\" || next === '"' || next === "n", `bad escape \\${next} in label ${name}`);
        value += next === "n" ? "\n" : next;
        j += 2;
      } else {
        assert.notEqual(c, "\n");
        value += c;
        j++;
      }
    }
    assert.ok(!(name in labels), `label ${name} repeated`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  assert.match(text, /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i, `bad value ${text}`);
  return Number(text);
}

/** Parses and checks an exposition; returns its families by name. */
export function parseMetrics(text: string): Map<string, Family> {
  assert.ok(text.endsWith("\n"), "the exposition ends with a line feed");
  const families = new Map<string, Family>();
  let current: Family | null = null;
  let pendingHelp: { name: string; help: string } | null = null;
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      const [name, ...help] = line.slice(7).split(" ");
      assert.match(name!, NAME);
      assert.ok(!families.has(name!), `family ${name} appears twice`);
      pendingHelp = { name: name!, help: help.join(" ") };
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      assert.equal(pendingHelp?.name, name, `TYPE of ${name} follows its HELP`);
      assert.ok(["counter", "gauge", "histogram", "summary", "untyped"].includes(type!), `type ${type}`);
      current = { name: name!, help: pendingHelp!.help, type: type!, samples: [] };
      families.set(name!, current);
      pendingHelp = null;
      continue;
    }
    assert.ok(!line.startsWith("#"), `unexpected comment ${line}`);
    const match = SAMPLE.exec(line);
    assert.ok(match !== null, `bad sample line: ${line}`);
    const [, name, labelText, value] = match;
    assert.ok(current !== null, `sample ${name} before any TYPE`);
    const base: string = current.type === "histogram" ? name!.replace(/_(bucket|sum|count)$/, "") : name!;
    assert.equal(base, current.name, `sample ${name} inside family ${current.name}`);
    current.samples.push({ name: name!, labels: labelText ? parseLabels(labelText) : {}, value: parseValue(value!) });
  }
  for (const family of families.values()) {
    if (family.type === "counter") assert.ok(family.name.endsWith("_total"), `${family.name} ends with _total`);
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const samples of series.values()) {
    const buckets = samples.filter((s) => s.name.endsWith("_bucket"));
    assert.ok(buckets.length > 0);
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(parseValue(buckets[i]!.labels.le!) > parseValue(buckets[i - 1]!.labels.le!), "bucket bounds ascend");
      assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, "buckets are cumulative");
    }
    assert.equal(buckets.at(-1)!.labels.le, "+Inf");
    const count = samples.find((s) => s.name.endsWith("_count"));
    assert.ok(samples.some((s) => s.name.endsWith("_sum")));
    assert.equal(count?.value, buckets.at(-1)!.value, "the +Inf bucket equals _count");
  }
}

/** The value of the sample `name` whose labels include `labels`, or undefined. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) return sample.value;
    }
  }
  return undefined;
}

/** Scrapes `GET /metrics` of `app` (200 in the text format's content type) and parses it strictly. */
export async function scrape(app: Pick<TestApp, "fetch">): Promise<Map<string, Family>> {
  const response = await app.fetch("/metrics");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
  return parseMetrics(await response.text());
}
