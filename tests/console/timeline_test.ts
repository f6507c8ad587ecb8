import assert from "node:assert/strict";
import type { KeySchedule, ScheduledKey } from "../../lib/console/schedule.ts";
import { nowLabelAnchor, shortKid, timelineSvg, utcTime } from "../../lib/console/timeline.ts";

const T = 1_800_000_000;

function schedule(keys: ScheduledKey[]): KeySchedule {
  return { keys, etag: 'W/"test"', keysJson: JSON.stringify(keys) };
}

const retired: ScheduledKey = {
  kid: "retired-kid-0123456789",
  alg: "RS256",
  state: "retired",
  publishedAt: T - 3000,
  activatesAt: T - 2000,
  retiresAt: T - 1000,
  exp: T + 1000,
};
const active: ScheduledKey = {
  ...retired,
  kid: "active-kid",
  state: "active",
  activatesAt: T - 1000,
  retiresAt: T + 2000,
  exp: T + 4000,
};
const next: ScheduledKey = {
  ...retired,
  kid: "next<kid>",
  state: "next",
  publishedAt: T - 500,
  activatesAt: T + 2000,
  retiresAt: T + 5000,
  exp: T + 7000,
};

/** The attributes of every element named `tag` in `svg`, in order. */
function elements(svg: string, tag: string): Record<string, string>[] {
  return [...svg.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, "g"))].map((match) =>
    Object.fromEntries([...match[1]!.matchAll(/([a-z0-9-]+)="([^"]*)"/g)].map((attr) => [attr[1]!, attr[2]!]))
  );
}

const percent = (value: string | undefined) => Number(value!.replace("%", ""));

Deno.test("timelineSvg draws one group per key, in its state, with the kid escaped", () => {
  const svg = timelineSvg(schedule([retired, active, next]), T).markup;
  const groups = elements(svg, "g");
  assert.deepEqual(groups.map((g) => [g["data-kid"], g["data-state"], g.class]), [
    ["retired-kid-0123456789", "retired", "key state-retired"],
    ["active-kid", "active", "key state-active"],
    ["next&lt;kid&gt;", "next", "key state-next"],
  ]);
  assert.ok(!svg.includes("next<kid>"));
  assert.match(svg, /retired · retired-kid-… · RS256/);
});

Deno.test("each bar is split into its phases, the current one emphasised and never invisible", () => {
  const svg = timelineSvg(schedule([retired, active, next]), T).markup;
  const rects = elements(svg, "rect");
  // retired: 3 phases, active: 3 phases, next: 3 phases.
  assert.equal(rects.length, 9);
  const current = rects.filter((rect) => rect.class!.endsWith(" current")).map((rect) => rect.class);
  assert.deepEqual(current, ["phase phase-retired current", "phase phase-active current", "phase phase-next current"]);
  for (const rect of rects) {
    assert.ok(percent(rect.x) >= 1 && percent(rect.x) + percent(rect.width) <= 99.5, JSON.stringify(rect));
  }
  // A retired phase of 0.01 % of the span is still drawn 1.5 % wide.
  const brief: ScheduledKey = { ...retired, retiresAt: T - 1, exp: T + 1, publishedAt: T - 10_000_000 };
  const tiny = elements(timelineSvg(schedule([brief]), T).markup, "rect").find((rect) =>
    rect.class!.endsWith("current")
  );
  assert.equal(percent(tiny!.width), 1.5);
});

Deno.test("markers say when the next key signs, when the active one stops and when a retired one leaves", () => {
  const svg = timelineSvg(schedule([retired, active, next]), T).markup;
  assert.ok(svg.includes(`leaves the JWKS ${utcTime(T + 1000)}`));
  assert.ok(svg.includes(`signs until ${utcTime(T + 2000)}`));
  assert.ok(svg.includes(`signs from ${utcTime(T + 2000)}`));
  const markers = elements(svg, "line").filter((line) => line.class === "marker");
  assert.equal(markers.length, 3);
  // The active key's end and the next key's start are one instant: one x.
  assert.equal(markers[1]!.x1, markers[2]!.x1);
});

Deno.test("the now-line sits at now on the scale the svg publishes for the page script", () => {
  const svg = timelineSvg(schedule([retired, active, next]), T).markup;
  const root = elements(svg, "svg")[0]!;
  const [t0, t1, x0, x1] = ["data-t0", "data-t1", "data-x0", "data-x1"].map((name) => Number(root[name]));
  assert.ok(t0! <= T - 3000 && t1! >= T + 7000);
  const line = elements(svg, "line").find((l) => l.class === "now-line")!;
  const expected = x0! + ((T - t0!) / (t1! - t0!)) * (x1! - x0!);
  assert.ok(Math.abs(percent(line.x1) - expected) < 0.01, `${line.x1} vs ${expected}`);
  assert.equal(nowLabelAnchor(10), "start");
  assert.equal(nowLabelAnchor(90), "end");
});

Deno.test("an empty schedule still draws an axis and a now-line", () => {
  const svg = timelineSvg(schedule([]), T).markup;
  assert.equal(elements(svg, "g").length, 0);
  assert.equal(elements(svg, "line").filter((l) => l.class === "now-line").length, 1);
  assert.equal(shortKid("short"), "short");
});
