import assert from "node:assert/strict";
import { escapeLabelValue, Exposition, formatValue, labelText } from "../../lib/ops/exposition.ts";

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

Deno.test("Exposition writes HELP and TYPE before a family's samples, with escaped help, one line each", () => {
  const text = new Exposition()
    .family("jobs_total", "counter", "Jobs done\\now\nand then.")
    .sample("jobs_total", labelText({ kind: "a" }), 3)
    .sample("jobs_total", "", Infinity)
    .family("temp", "gauge", "Temperature.")
    .sample("temp", "", -0.5)
    .text();
  assert.equal(
    text,
    [
      "# HELP jobs_total Jobs done\\\\now\\nand then.",
      "# TYPE jobs_total counter",
      'jobs_total{kind="a"} 3',
      "jobs_total +Inf",
      "# HELP temp Temperature.",
      "# TYPE temp gauge",
      "temp -0.5",
      "",
    ].join("\n"),
  );
  assert.equal(new Exposition().text(), "\n");
});
