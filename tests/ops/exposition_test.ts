import assert from "node:assert/strict";
import { escapeLabelValue, formatValue, labelText } from "../../lib/ops/exposition.ts";

Deno.test("the text format escapes label values and writes special values the Prometheus way", () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.equal(labelText({}), "");
  assert.equal(labelText({ route: "/x", code: '"' }), '{route="/x",code="\\""}');
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(0.25), "0.25");
  assert.equal(formatValue(42), "42");
});
