/**
 * Writes the generated parts of the documentation: docs/configuration.md from the settings
 * table, formatted as `deno fmt` formats Markdown. `deno run -A scripts/docs.ts` after changing
 * a setting; `tests/settings/reference_test.ts` fails until then.
 * @module
 */
import { SETTINGS } from "../lib/settings.ts";
import { configurationReference } from "../lib/settings/reference.ts";

/** Where the configuration reference lives. */
export const CONFIGURATION_MD = new URL("../docs/configuration.md", import.meta.url);

/** `markdown` as `deno fmt` (with this repository's settings) leaves it. */
export async function formatMarkdown(markdown: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--config", new URL("../deno.json", import.meta.url).pathname, "--ext", "md", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(markdown));
  await writer.close();
  const output = await child.output();
  if (!output.success) throw new Error("deno fmt failed on the generated Markdown");
  return new TextDecoder().decode(output.stdout);
}

/** docs/configuration.md as it should read. */
export async function renderConfiguration(): Promise<string> {
  return await formatMarkdown(configurationReference(SETTINGS));
}

if (import.meta.main) {
  await Deno.writeTextFile(CONFIGURATION_MD, await renderConfiguration());
  console.log(`wrote ${CONFIGURATION_MD.pathname}`);
}
