import assert from "node:assert/strict";
import { SETTINGS } from "../../lib/settings.ts";
import { configurationReference } from "../../lib/settings/reference.ts";
import { CONFIGURATION_MD, renderConfiguration } from "../../scripts/docs.ts";

Deno.test("docs/configuration.md is the one the settings table generates", async () => {
  assert.equal(
    await Deno.readTextFile(CONFIGURATION_MD),
    await renderConfiguration(),
    "docs/configuration.md is out of date: run `deno run -A scripts/docs.ts`",
  );
});

Deno.test("the reference has a row per setting, with its flag, variables and default, and no secret value", () => {
  const text = configurationReference(SETTINGS);
  for (const spec of Object.values(SETTINGS)) {
    for (const name of spec.env) assert.ok(text.includes(`\`${name}\``), name);
    if (spec.flag !== null) assert.ok(text.includes(`\`--${spec.flag}`), spec.flag);
  }
  assert.match(text, /\| `--port N` \| `PORT` \| 8080; 0 picks a free one \| port to listen on \|/);
  assert.match(text, /\| \(environment only\) \| `NOT_MY_KEY` \|/);
  assert.match(text, /`--auth open\\\|password`/, "a | in a cell is escaped");
});
