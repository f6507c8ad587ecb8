/**
 * The console's stylesheet, served as `/console/console.css` (same origin, so the CSP needs no
 * inline style). One column that reads on a phone, wider on a desktop; the three key states
 * have one colour each, used by the timeline, the legend and the badges; light and dark.
 * @module
 */

/**
 * The palette and base rules every page of ours shares (the console and the sign-in pages), light
 * and dark: one place for the colours, so the pages look like one product.
 */
export const THEME_CSS = String.raw`:root {
  color-scheme: light dark;
  --bg: #f7f7f5;
  --fg: #1c1f24;
  --muted: #5b6270;
  --card: #ffffff;
  --line: #d8dbe0;
  --next: #2563eb;
  --accent: #2563eb;
  --active: #15803d;
  --retired: #b45309;
  --now: #dc2626;
  --ok: #15803d;
  --bad: #b91c1c;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15171b;
    --fg: #e7e9ec;
    --muted: #a0a7b4;
    --card: #1e2127;
    --line: #363b45;
    --next: #60a5fa;
    --accent: #60a5fa;
    --active: #4ade80;
    --retired: #fbbf24;
    --now: #f87171;
    --ok: #4ade80;
    --bad: #f87171;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
`;

/** The stylesheet's source. */
export const CONSOLE_CSS = THEME_CSS +
  String.raw`header.top, main, footer { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
header.top { padding-top: 1rem; }
h1 { font-size: 1.5rem; margin: 0; }
h2 { font-size: 1.2rem; margin: 0 0 0.5rem; }
h3 { font-size: 1rem; margin: 0.75rem 0 0.25rem; }
code, pre, textarea, input { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
code { overflow-wrap: anywhere; }
a { color: var(--next); }
.issuer { margin: 0.25rem 0 0; color: var(--muted); }
.mode { display: inline-block; padding: 0 0.5rem; border-radius: 1rem; border: 1px solid var(--line); font-size: 0.85rem; }
.mode-open { border-color: var(--retired); color: var(--retired); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 0.5rem; padding: 1rem; margin: 1rem 0; }
.note { color: var(--muted); font-size: 0.9rem; }
.note.stale { color: var(--bad); }
footer { color: var(--muted); font-size: 0.85rem; padding-bottom: 2rem; }

.endpoints { display: grid; grid-template-columns: minmax(0, 1fr); margin: 0; }
.endpoints dt { font-weight: 600; font-size: 0.9rem; }
.endpoints dd { margin: 0 0 0.5rem; }
@media (min-width: 40rem) {
  .endpoints { grid-template-columns: max-content minmax(0, 1fr); column-gap: 1rem; }
  .endpoints dd { margin: 0 0 0.25rem; }
}

svg.timeline { display: block; width: 100%; font-size: 13px; fill: var(--fg); }
svg.timeline text { paint-order: stroke; stroke: var(--card); stroke-width: 4px; stroke-linejoin: round; }
svg.timeline .key-label { font-weight: 600; }
svg.timeline .marker-label, svg.timeline .axis-label { fill: var(--muted); font-size: 12px; }
svg.timeline .phase { opacity: 0.28; }
svg.timeline .phase.current { opacity: 1; }
svg.timeline .phase-next { fill: var(--next); }
svg.timeline .phase-active { fill: var(--active); }
svg.timeline .phase-retired { fill: var(--retired); }
svg.timeline .marker { stroke: var(--fg); stroke-width: 1.5; stroke-dasharray: 3 2; }
svg.timeline .axis { stroke: var(--line); }
svg.timeline .now-line { stroke: var(--now); stroke-width: 2; }
svg.timeline .now-label { fill: var(--now); font-weight: 600; }

.legend { list-style: none; padding: 0; margin: 0.5rem 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; font-size: 0.85rem; color: var(--muted); }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 0.2rem; margin-right: 0.35rem; vertical-align: -0.1rem; }
.swatch.state-next, .badge.state-next { background: var(--next); }
.swatch.state-active, .badge.state-active { background: var(--active); }
.swatch.state-retired, .badge.state-retired { background: var(--retired); }

.key-list { list-style: none; padding: 0; margin: 0.5rem 0 0; display: grid; gap: 0.5rem; }
.key-item { border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 0.4rem; padding: 0.5rem 0.75rem; }
.key-item.state-next { border-left-color: var(--next); }
.key-item.state-active { border-left-color: var(--active); }
.key-item.state-retired { border-left-color: var(--retired); }
.key-head { margin: 0; }
.badge { color: #fff; border-radius: 0.25rem; padding: 0 0.4rem; font-size: 0.8rem; font-weight: 600; text-transform: uppercase; }
.alg { color: var(--muted); font-size: 0.85rem; }
.key-times { display: grid; grid-template-columns: max-content minmax(0, 1fr); column-gap: 0.75rem; margin: 0.25rem 0 0; font-size: 0.9rem; }
.key-times dt { color: var(--muted); }
.key-times dd { margin: 0; }

label { display: block; font-weight: 600; margin: 0.5rem 0 0.25rem; }
.row { display: flex; gap: 0.5rem; flex-wrap: wrap; }
input, textarea { width: 100%; font-size: 0.95rem; padding: 0.5rem; border: 1px solid var(--line); border-radius: 0.35rem; background: var(--bg); color: var(--fg); }
.row input { flex: 1 1 12rem; width: auto; }
textarea { resize: vertical; word-break: break-all; }
button { font: inherit; font-weight: 600; padding: 0.5rem 1rem; border: 0; border-radius: 0.35rem; background: var(--active); color: #fff; cursor: pointer; }
button:focus-visible, input:focus-visible, textarea:focus-visible, a:focus-visible { outline: 2px solid var(--next); outline-offset: 2px; }
#jwt-verdict { font-weight: 600; overflow-wrap: anywhere; }
#jwt-verdict[data-result="verified"] { color: var(--ok); }
#jwt-verdict[data-result="not-verified"], #jwt-verdict[data-result="malformed"] { color: var(--bad); }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 0.35rem; padding: 0.5rem; margin: 0; overflow-x: auto; font-size: 0.85rem; white-space: pre-wrap; overflow-wrap: anywhere; }
#jwt-times { font-size: 0.9rem; padding-left: 1.25rem; }
`;
