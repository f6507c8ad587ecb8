import assert from "node:assert/strict";
import { CONSOLE_JS } from "../../lib/console/script.ts";
import { renderedPage } from "../support/console_page.ts";

Deno.test("the console script is valid strict JavaScript, run in one closure", () => {
  // Compiles without running: a syntax error in the served script fails here, not in a browser.
  assert.doesNotThrow(() => new Function(CONSOLE_JS));
  assert.ok(CONSOLE_JS.startsWith('"use strict";\n(() => {'));
  assert.ok(CONSOLE_JS.trimEnd().endsWith("})();"));
});

Deno.test("every element the script looks up by id is on the page it runs on", () => {
  const ids = [...new Set([...CONSOLE_JS.matchAll(/\$\("([a-z-]+)"\)/g)].map((m) => m[1]!))];
  assert.ok(ids.length >= 10, `found ${ids.length} ids`);
  const open = renderedPage("open");
  for (const id of ids) assert.ok(open.includes(`id="${id}"`), `open-mode page has #${id}`);
  const password = renderedPage("password");
  const formIds = ["get-token", "token-status"];
  for (const id of ids.filter((id) => !formIds.includes(id))) {
    assert.ok(password.includes(`id="${id}"`), `password-mode page has #${id}`);
  }
  assert.match(
    CONSOLE_JS,
    /const form = \$\("get-token"\);\s*if \(form !== null\)/,
    "the form is optional: password mode has none",
  );
});

Deno.test("the script only talks to its own origin and never sends a pasted token anywhere", () => {
  const fetched = [...CONSOLE_JS.matchAll(/fetch\(("[^"]*"|[^,)]+)/g)].map((m) => m[1]);
  assert.deepEqual(fetched.sort(), [
    '"/.well-known/jwks.json"',
    '"/auth"',
    '"/console/keys.html"',
    '"/console/keys.json"',
  ]);
  assert.ok(!/https?:\/\//.test(CONSOLE_JS.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, "")), "no absolute URL");
  assert.ok(!/\beval\(|new Function|innerHTML\s*=\s*[a-z]/.test(CONSOLE_JS));
  assert.match(CONSOLE_JS, /crypto\.subtle\.verify/, "the decoder verifies in the browser");
});
