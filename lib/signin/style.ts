/**
 * The sign-in pages' stylesheet, served as `/authorize/signin.css` (same origin, so the CSP
 * needs no inline style): one centred card that reads on a phone, light and dark.
 * @module
 */
import { THEME_CSS } from "../console/style.ts";

/** The stylesheet's source: the console's palette, then one card. */
export const SIGNIN_CSS = THEME_CSS + String.raw`.card {
  max-width: 28rem;
  margin: 2rem auto;
  padding: 1.5rem;
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 0.75rem;
}
@media (max-width: 30rem) { .card { margin: 0; border-radius: 0; border-width: 0 0 1px; } }
h1 { margin: 0 0 0.75rem; font-size: 1.5rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
label { display: block; margin: 0.9rem 0 0.3rem; font-weight: 600; }
input, textarea {
  width: 100%;
  padding: 0.55rem 0.65rem;
  font: inherit;
  color: inherit;
  background: var(--bg);
  border: 1px solid var(--line);
  border-radius: 0.4rem;
}
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85rem; }
input:focus, textarea:focus, button:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
.actions { display: flex; gap: 0.75rem; margin-top: 1.25rem; }
button {
  padding: 0.6rem 1.2rem;
  font: inherit;
  font-weight: 600;
  color: #fff;
  background: var(--accent);
  border: 0;
  border-radius: 0.4rem;
  cursor: pointer;
}
button.secondary { color: var(--fg); background: transparent; border: 1px solid var(--line); }
.error { padding: 0.6rem 0.8rem; color: var(--bad); border: 1px solid var(--bad); border-radius: 0.4rem; }
.muted { color: var(--muted); font-weight: 400; }
.small { font-size: 0.85rem; }
.note { color: var(--muted); font-size: 0.9rem; }
`;
