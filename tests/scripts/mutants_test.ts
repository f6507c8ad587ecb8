/**
 * The mutation list stays runnable: every mutant's snippet occurs exactly once in its file and
 * its test files exist, so a refactor that moves the code shows up here (in the gate) rather
 * than as an "invalid" mutant in the next hand-run `deno task mutate`.
 * @module
 */
import assert from "node:assert/strict";
import { defaultTests, MUTANTS } from "../../scripts/mutants.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("every mutant finds its snippet exactly once and names test files that exist", () => {
  const ids = new Set<string>();
  const stale: string[] = [];
  for (const mutant of MUTANTS) {
    assert.ok(!ids.has(mutant.id), `mutant id "${mutant.id}" is used twice`);
    ids.add(mutant.id);
    assert.notEqual(mutant.find, mutant.replace, `${mutant.id} changes nothing`);
    const source = Deno.readTextFileSync(new URL(mutant.file, ROOT));
    const count = source.split(mutant.find).length - 1;
    if (count !== 1) stale.push(`${mutant.id}: snippet found ${count} times in ${mutant.file}`);
    for (const test of mutant.tests ?? defaultTests(mutant.file)) {
      try {
        Deno.statSync(new URL(test, ROOT));
      } catch {
        stale.push(`${mutant.id}: no test file ${test}`);
      }
    }
  }
  assert.deepEqual(stale, [], `stale mutants:\n${stale.join("\n")}`);
  assert.ok(MUTANTS.length >= 75, `the list shrank to ${MUTANTS.length} mutants`);
});
