/**
 * The house rules of STYLE.md that a machine can check, over every module in lib/: the module
 * doc and named exports, the direction of imports between layers, no import cycles, no SQL
 * built from strings, and a test file beside each module (lib/x/y.ts <-> tests/x/y_test.ts).
 * Importing each module here also makes the coverage report include files no other test loads.
 * @module
 */
import assert from "node:assert/strict";
import { libFiles } from "./support/helpers.ts";

const LIB = new URL("../lib/", import.meta.url);
const files = libFiles();
const sources = new Map(files.map((name) => [name, Deno.readTextFileSync(new URL(name, LIB))]));

/** The lib modules `name` imports (relative imports only), as paths relative to lib/. */
function importsOf(name: string): string[] {
  const source = sources.get(name)!;
  const out: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)[^"';]*?from\s*"(\.[^"]+)"|^\s*import\s*"(\.[^"]+)"/gm)) {
    const target = new URL(match[1] ?? match[2]!, new URL(name, LIB)).href;
    if (target.startsWith(LIB.href)) out.push(target.slice(LIB.href.length));
  }
  return out;
}
const graph = new Map(files.map((name) => [name, importsOf(name)]));

/** The adapter family of a module (the driver it talks to), or null: `store/sqlite_file.ts` is SQLite's. */
function adapterOf(name: string): string | null {
  return /^(?:store|signing)\/(sqlite|postgres|redis|openssl)[^/]*\.ts$/.exec(name)?.[1] ?? null;
}

Deno.test("every lib module opens with a module doc and has only named exports", async (t) => {
  for (const name of files) {
    await t.step(name, async () => {
      const source = sources.get(name)!;
      assert.match(source, /^\/\*\*[\s\S]*?@module\s*\n\s*\*\//, `${name} starts with a /** … @module */ doc`);
      assert.ok(!/^export default/m.test(source), `${name} has no default export`);
      assert.match(name, /^([a-z0-9_]+\/)*[a-z0-9_]+\.ts$/, `${name} is snake_case`);
      const module = await import(new URL(name, LIB).href);
      const exportsValues = /^export (async function|function|class|const)/m.test(source);
      assert.equal(Object.keys(module).length > 0, exportsValues, `${name} exports what it declares`);
    });
  }
});

Deno.test("the core never reads the environment, the system clock or the process, and imports only the core", () => {
  for (const name of files.filter((file) => file.startsWith("core/"))) {
    const code = sources.get(name)!.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    assert.ok(!/Deno\./.test(code), `${name} does not touch Deno.*`);
    assert.ok(!/Date\.now\(\)|new Date\(\)|performance\.now\(\)/.test(code), `${name} takes time as a parameter`);
    for (const target of graph.get(name)!) assert.match(target, /^core\//, `${name} imports ${target}`);
  }
});

Deno.test("layers import downwards: adapters never import each other, the edge never imports an adapter", () => {
  for (const [name, targets] of graph) {
    for (const target of targets) {
      const [from, to] = [adapterOf(name), adapterOf(target)];
      if (from !== null && to !== null) assert.equal(from, to, `adapter ${name} imports another adapter, ${target}`);
      if (/^(http|routes|console)\//.test(name)) assert.equal(to, null, `edge module ${name} imports ${target}`);
      if (name.startsWith("http/")) assert.match(target, /^(core|http)\//, `edge core ${name} imports ${target}`);
      if (/^(core|http|routes|users|keys|ops|store)\//.test(name)) {
        assert.ok(!/^(cli\/|app\.ts|server\.ts)/.test(target), `${name} imports ${target}, which sits above it`);
      }
    }
  }
});

Deno.test("there are no import cycles in lib/", () => {
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === "done") return;
    assert.notEqual(state.get(name), "visiting", `import cycle: ${[...path, name].join(" -> ")}`);
    state.set(name, "visiting");
    for (const target of graph.get(name) ?? []) visit(target, [...path, name]);
    state.set(name, "done");
  };
  for (const name of files) visit(name, []);
});

Deno.test("no lib module is longer than 300 lines", () => {
  const long = files.filter((name) => sources.get(name)!.split("\n").length > 301);
  assert.deepEqual(long, []);
});

Deno.test("SQL is never built from strings", () => {
  for (const [name, source] of sources) {
    for (const match of source.matchAll(/\.(prepare|exec|query|unsafe)\(\s*`([^`]*)`/g)) {
      assert.ok(
        !match[2]!.includes("${") || /PRAGMA user_version = \$\{v \+ 1\}/.test(match[2]!),
        `${name}: ${match[2]}`,
      );
    }
  }
});

/** Every file under tests/, as paths relative to tests/ (`core/tokens_test.ts`). */
function testFiles(): Set<string> {
  const root = new URL("./", import.meta.url);
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, root))) {
      if (entry.isDirectory) walk(`${dir}${entry.name}/`);
      else if (entry.isFile) out.add(`${dir}${entry.name}`);
    }
  };
  walk("");
  return out;
}

/** The mirrored test files (`x/y_test.ts` for `lib/x/y.ts`) that `tests` lacks for the modules `lib`. */
function missingMirrors(lib: readonly string[], tests: ReadonlySet<string>): string[] {
  return lib.map((name) => name.replace(/\.ts$/, "_test.ts")).filter((mirror) => !tests.has(mirror));
}

Deno.test("every lib module has its own test file: lib/x/y.ts <-> tests/x/y_test.ts", async (t) => {
  await t.step("the rule finds a missing mirror, and a test in the wrong folder does not count", () => {
    const lib = ["core/a.ts", "store/b.ts", "c.ts"];
    assert.deepEqual(missingMirrors(lib, new Set(["core/a_test.ts", "b_test.ts", "c_test.ts"])), ["store/b_test.ts"]);
    assert.deepEqual(missingMirrors(lib, new Set(["core/a_test.ts", "store/b_test.ts", "c_test.ts"])), []);
  });
  await t.step("the tree", () => {
    const missing = missingMirrors(files, testFiles());
    assert.deepEqual(
      missing,
      [],
      `lib modules without their mirrored test file: ${missing.map((m) => `tests/${m}`).join(", ")}`,
    );
  });
});
