import assert from "node:assert/strict";
import { duration, integer, Invalid, oneOf, setting } from "../../lib/settings/define.ts";

/** The `why` of the Invalid that `fn` throws (and that it does throw one). */
function why(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof Invalid, String(error));
    return error.why;
  }
  assert.fail("expected an Invalid");
}

Deno.test("duration() parses seconds with a unit and enforces its minimum", () => {
  const parse = duration(60);
  assert.equal(parse("60"), 60);
  assert.equal(parse("2m"), 120);
  assert.equal(parse("1d"), 86_400);
  assert.equal(why(() => parse("59s")), "must be at least 60 seconds");
  assert.equal(why(() => parse("soon")), "expected a duration such as 900, 15m, 1h or 7d");
  assert.equal(duration(0)("0"), 0);
});

Deno.test("integer() takes whole numbers within its bounds, inclusive", () => {
  const parse = integer(1, 64);
  assert.equal(parse("1"), 1);
  assert.equal(parse("64"), 64);
  for (const text of ["0", "65", "-1", "1.5", "1e1", " 2", "", "0x10"]) {
    assert.equal(why(() => parse(text)), "expected an integer from 1 to 64", JSON.stringify(text));
  }
});

Deno.test("oneOf() takes exactly one of its values", () => {
  const parse = oneOf(["open", "password"] as const, '"open" or "password"');
  assert.equal(parse("open"), "open");
  assert.equal(why(() => parse("OPEN")), 'expected "open" or "password"');
});

Deno.test("Invalid says why and whether the value may be shown; setting() freezes its spec", () => {
  const shown = new Invalid("bad");
  assert.equal(shown.why, "bad");
  assert.equal(shown.show, true);
  assert.equal(shown.message, "bad");
  assert.equal(new Invalid("secret", false).show, false);
  const spec = setting({
    flag: "x",
    env: ["X"],
    arg: "N",
    help: "x",
    scope: "serve",
    fallback: 1,
    parse: Number,
  });
  assert.ok(Object.isFrozen(spec));
});
