import assert from "node:assert/strict";
import { CONSOLE_CSS } from "../../lib/console/style.ts";
import { renderedPage } from "../support/console_page.ts";

const STATES = ["next", "active", "retired"] as const;

Deno.test("the stylesheet is balanced CSS with no external resource", () => {
  assert.equal(CONSOLE_CSS.split("{").length, CONSOLE_CSS.split("}").length);
  assert.ok(!/@import|url\(\s*["']?https?:/.test(CONSOLE_CSS));
});

Deno.test("each key state has one colour, in light and in dark, used by the timeline, legend, badges and list", () => {
  const dark = /@media \(prefers-color-scheme: dark\) \{([\s\S]*?)\n\}/.exec(CONSOLE_CSS)?.[1] ?? "";
  for (const state of STATES) {
    assert.match(CONSOLE_CSS, new RegExp(`:root \\{[^}]*--${state}: #[0-9a-f]{6};`), `light --${state}`);
    assert.match(dark, new RegExp(`--${state}: #[0-9a-f]{6};`), `dark --${state}`);
    for (
      const selector of [
        `svg.timeline .phase-${state}`,
        `.badge.state-${state}`,
        `.swatch.state-${state}`,
        `.key-item.state-${state}`,
      ]
    ) {
      const rule = new RegExp(`${selector.replaceAll(".", "\\.")}[^{]*\\{[^}]*var\\(--${state}\\)`);
      assert.match(CONSOLE_CSS, rule, selector);
    }
  }
});

Deno.test("the classes the page gives its key states are the ones the stylesheet colours", () => {
  const page = renderedPage("open");
  for (const state of STATES) {
    assert.ok(page.includes(`class="badge state-${state}"`), `page has a ${state} badge`);
    assert.ok(page.includes(`class="swatch state-${state}"`), `page has a ${state} swatch`);
    assert.ok(CONSOLE_CSS.includes(`.badge.state-${state}`));
  }
});
