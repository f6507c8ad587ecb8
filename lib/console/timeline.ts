/**
 * Draws the key schedule as an inline SVG timeline: one row per published key, its bar split
 * into the phases of its life (published and waiting, signing, retired but still published)
 * with the current phase emphasised, a marker where the next key starts signing and where each
 * retired key leaves the JWKS, and a now-line. Colours come from the page's stylesheet
 * (classes, no inline style, for the CSP). Pure: `now` is a parameter.
 * @module
 */
import { html, type Markup } from "./html.ts";
import type { KeySchedule, PublishedState, ScheduledKey } from "./schedule.ts";

// Horizontal positions are percentages of the drawing's width and text sizes come from the
// stylesheet, so the drawing stretches to any screen while its text keeps a readable size.
/** Bar ends (% of width); first row's top, row pitch, bar height and axis band (px). */
const SIZE = { left: 1, right: 99, top: 26, row: 58, bar: 18, axis: 30 } as const;

/** Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`. */
export function utcTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

/** Unix seconds as `YYYY-MM-DD HH:MM`, for the axis. */
function axisTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

/** Unix seconds as ISO 8601, for `datetime` attributes. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** A short form of a kid for labels; the full kid is in the row's title. */
export function shortKid(kid: string): string {
  return kid.length > 12 ? `${kid.slice(0, 12)}…` : kid;
}

/** The time span drawn, with a little room either side. */
function span(keys: readonly ScheduledKey[], now: number): { t0: number; t1: number } {
  let t0 = now;
  let t1 = now + 1;
  for (const key of keys) {
    t0 = Math.min(t0, key.publishedAt);
    t1 = Math.max(t1, key.exp);
  }
  const margin = (t1 - t0) * 0.02;
  return { t0: Math.floor(t0 - margin), t1: Math.ceil(t1 + margin) };
}

const PHASES: readonly { state: PublishedState; from: keyof ScheduledKey; to: keyof ScheduledKey }[] = [
  { state: "next", from: "publishedAt", to: "activatesAt" },
  { state: "active", from: "activatesAt", to: "retiresAt" },
  { state: "retired", from: "retiresAt", to: "exp" },
];

/** The marker of a key: what happens next to it, and when. */
function marker(key: ScheduledKey): { at: number; text: string } {
  switch (key.state) {
    case "next":
      return { at: key.activatesAt, text: `signs from ${utcTime(key.activatesAt)}` };
    case "active":
      return { at: key.retiresAt, text: `signs until ${utcTime(key.retiresAt)}` };
    case "retired":
      return { at: key.exp, text: `leaves the JWKS ${utcTime(key.exp)}` };
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Where the now label sits beside the now-line at `x` percent: inside the drawing. */
export function nowLabelAnchor(x: number): "start" | "end" {
  return x > 85 ? "end" : "start";
}

/**
 * The timeline of `schedule` at `now` (unix seconds): bars, then the now-line over them, then
 * the labels over both (with a halo, so the line never crosses their text). The `<svg>` carries its scale in
 * `data-t0`/`data-t1` (seconds) and `data-x0`/`data-x1` (percent) so the page script can move
 * the now-line as time passes without redrawing.
 */
export function timelineSvg(schedule: KeySchedule, now: number): Markup {
  const { keys } = schedule;
  const { t0, t1 } = span(keys, now);
  const x = (t: number) =>
    round(SIZE.left + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * (SIZE.right - SIZE.left));
  const height = SIZE.top + keys.length * SIZE.row + SIZE.axis;
  const bottom = SIZE.top + keys.length * SIZE.row;
  const nowX = x(now);
  const anchor = nowLabelAnchor(nowX);
  const dx = anchor === "start" ? 4 : -4;

  const rows = keys.map((key, i) => {
    const y = SIZE.top + i * SIZE.row;
    const phases = PHASES.filter((phase) => (key[phase.to] as number) > (key[phase.from] as number)).map((phase) => {
      const left = x(key[phase.from] as number);
      // The current phase stays visible however short it is next to the whole span.
      const current = phase.state === key.state ? " current" : "";
      const width = Math.max(current ? 1.5 : 0.4, round(x(key[phase.to] as number) - left));
      return html`
        <rect class="phase phase-${phase.state}${current}" x="${left}%" y="${y + 8}" width="${width}%"
          height="${SIZE.bar}" rx="3" />
      `;
    });
    const mark = marker(key);
    const markX = x(mark.at);
    const title = `${key.kid} (${key.alg}, ${key.state}): published ${utcTime(key.publishedAt)}, signs ` +
      `${utcTime(key.activatesAt)} to ${utcTime(key.retiresAt)}, leaves the JWKS ${utcTime(key.exp)}`;
    return {
      shape: html`
        <g class="key state-${key.state}" data-kid="${key.kid}" data-state="${key.state}">
        <title>${title}</title>
        ${phases}
        <line class="marker" x1="${markX}%" x2="${markX}%" y1="${y + 4}" y2="${y + 12 + SIZE.bar}"/>
        </g>
      `,
      text: html`
        <text class="key-label" x="${SIZE.left}%" y="${y + 2}">${key.state} · ${shortKid(key.kid)} · ${key.alg}</text>
        <text class="marker-label" x="${SIZE.left}%" y="${y + 42}">${mark.text}</text>
      `,
    };
  });

  return html`
    <svg class="timeline" width="100%" height="${height}" role="img" aria-labelledby="timeline-title"
      data-t0="${t0}" data-t1="${t1}" data-x0="${SIZE.left}" data-x1="${SIZE.right}">
    <title id="timeline-title">Published keys from ${utcTime(t0)} to ${utcTime(t1)}</title>
    ${rows.map((row) => row.shape)}
    <line class="now-line" x1="${nowX}%" x2="${nowX}%" y1="${SIZE.top - 14}" y2="${bottom}"/>
    ${rows.map((row) => row.text)}
    <text class="now-label" x="${nowX}%" y="${SIZE.top - 14}" dx="${dx}" text-anchor="${anchor}">now</text>
    <line class="axis" x1="${SIZE.left}%" x2="${SIZE.right}%" y1="${bottom + 4}" y2="${bottom + 4}"/>
    <text class="axis-label" x="${SIZE.left}%" y="${bottom + 20}">${axisTime(t0)}</text>
    <text class="axis-label" x="${SIZE.right}%" y="${bottom + 20}" text-anchor="end">${axisTime(t1)} UTC</text>
    </svg>
  `;
}
