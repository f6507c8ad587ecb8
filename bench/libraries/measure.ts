/**
 * Micro-benchmark cases that run two ways: under `deno bench` (each case a `Deno.bench`) and,
 * with `deno run`, interleaved: every case runs a batch in turn, round after round, and the
 * median time per call over the rounds is reported. On a machine shared with other work the
 * interleaved medians give steadier ratios than back-to-back averages.
 * @module
 */

/** One thing to time. */
export interface Case {
  readonly name: string;
  readonly group: string;
  /** The case the others in its group are compared with. */
  readonly baseline?: boolean;
  readonly fn: () => unknown;
}

/** Registers every case with `Deno.bench` (a no-op outside `deno bench`). */
export function registerBench(cases: readonly Case[]): void {
  for (const c of cases) {
    Deno.bench(c.name, { group: c.group, baseline: c.baseline === true }, async () => {
      await c.fn();
    });
  }
}

/** The median nanoseconds per call of each case. */
export interface Timing {
  readonly name: string;
  readonly group: string;
  readonly nsPerCall: number;
  /** This case's time over its group's baseline. */
  readonly ratio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Runs the cases interleaved, `rounds` rounds of `batch` calls each, after a warm-up round. */
export async function interleave(
  cases: readonly Case[],
  options: { rounds?: number; batch?: number } = {},
): Promise<Timing[]> {
  const rounds = options.rounds ?? 25;
  const batch = options.batch ?? 2000;
  const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let round = -1; round < rounds; round++) {
    for (const c of cases) {
      const started = performance.now();
      for (let i = 0; i < batch; i++) {
        const result = c.fn();
        if (result instanceof Promise) await result;
      }
      if (round >= 0) samples.get(c)!.push((performance.now() - started) * 1e6 / batch);
    }
  }
  const timings = cases.map((c) => ({ c, ns: median(samples.get(c)!) }));
  return timings.map(({ c, ns }) => {
    const base = timings.find((t) => t.c.group === c.group && t.c.baseline === true) ??
      timings.find((t) => t.c.group === c.group)!;
    return { name: c.name, group: c.group, nsPerCall: ns, ratio: ns / base.ns };
  });
}

/** The timings as a Markdown table. */
export function table(timings: readonly Timing[]): string {
  const lines = ["| group | case | ns/call (median) | × group baseline |", "| --- | --- | --: | --: |"];
  for (const t of timings) {
    lines.push(`| ${t.group} | ${t.name} | ${Math.round(t.nsPerCall)} | ${t.ratio.toFixed(2)} |`);
  }
  return lines.join("\n");
}
