/**
 * The house rules of STYLE.md that a machine can check, over every module in lib/. Importing
 * each module here also makes the coverage report include files no other test loads.
 * @module
 */
import assert from "node:assert/strict";
import { libFiles } from "./support/helpers.ts";

const LIB = new URL("../lib/", import.meta.url);
const files = libFiles();

Deno.test("every lib module opens with a module doc and has only named exports", async (t) => {
  for (const name of files) {
    await t.step(name, async () => {
      const source = await Deno.readTextFile(new URL(name, LIB));
      assert.match(source, /^\/\*\*[\s\S]*?@module\s*\n\s*\*\//, `${name} starts with a /** … @module */ doc`);
      assert.ok(!/^export default/m.test(source), `${name} has no default export`);
      assert.match(name, /^([a-z0-9_]+\/)*[a-z0-9_]+\.ts$/, `${name} is snake_case`);
      const module = await import(new URL(name, LIB).href);
      const exportsValues = /^export (async function|function|class|const)/m.test(source);
      assert.equal(Object.keys(module).length > 0, exportsValues, `${name} exports what it declares`);
    });
  }
});

Deno.test("the core never reads the environment, the system clock or the process", async () => {
  for (const name of files.filter((file) => file.startsWith("core/"))) {
    const source = await Deno.readTextFile(new URL(name, LIB));
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    assert.ok(!/Deno\./.test(code), `${name} does not touch Deno.*`);
    assert.ok(!/Date\.now\(\)|new Date\(\)|performance\.now\(\)/.test(code), `${name} takes time as a parameter`);
  }
});

Deno.test("SQL is never built from strings", async () => {
  for (const name of files) {
    const source = await Deno.readTextFile(new URL(name, LIB));
    for (const match of source.matchAll(/\.(prepare|exec|query|unsafe)\(\s*`([^`]*)`/g)) {
      assert.ok(
        !match[2]!.includes("${") || /PRAGMA user_version = \$\{v \+ 1\}/.test(match[2]!),
        `${name}: ${match[2]}`,
      );
    }
  }
});
