import assert from "node:assert/strict";
import {
  argsConfig,
  type Command,
  durationFlag,
  exitCodeOf,
  JSON_OPTION,
  jsonText,
  requiredFlag,
  stringFlag,
  usage,
} from "../../lib/cli/spec.ts";
import { AppError } from "../../lib/core/errors.ts";

Deno.test("exit codes: 2 for usage and configuration errors, 1 for other failures", () => {
  assert.equal(exitCodeOf(new AppError("usage", "x")), 2);
  assert.equal(exitCodeOf(new AppError("invalid_config", "x")), 2);
  assert.equal(exitCodeOf(new AppError("not_found", "x")), 1);
  assert.equal(exitCodeOf(new Error("boom")), 1);
});

const command = (flags: Command["flags"]): Command => ({ name: "keys rotate", args: [], flags, help: false });

Deno.test("exit code 2 also for a bad field, and usage errors point at the command's help", () => {
  assert.equal(exitCodeOf(new AppError("invalid_field", "x")), 2);
  assert.equal(exitCodeOf("not an error"), 1);
  const error = usage({ name: "sign" }, "Missing --key FILE");
  assert.equal(error.code, "usage");
  assert.equal(error.message, 'Missing --key FILE (see "jwks-server sign --help")');
});

Deno.test("the flag readers take strings, and say which flag is missing or wrong", () => {
  const cmd = command({ key: "k.pem", json: true, empty: "", ttl: "90s", zero: "0", bad: "soon" });
  assert.equal(stringFlag(cmd, "key"), "k.pem");
  assert.equal(stringFlag(cmd, "json"), undefined, "a boolean flag is not a string");
  assert.equal(stringFlag(cmd, "none"), undefined);
  assert.equal(requiredFlag(cmd, "key", "FILE"), "k.pem");
  for (const name of ["none", "empty"]) {
    assert.throws(
      () => requiredFlag(cmd, name, "FILE"),
      (error: AppError) =>
        error.code === "usage" && error.message === `Missing --${name} FILE (see "jwks-server keys rotate --help")`,
    );
  }
  assert.equal(durationFlag(cmd, "ttl", 5), 90);
  assert.equal(durationFlag(cmd, "none", 5), 5);
  assert.equal(durationFlag(cmd, "zero", 5, true), 0);
  for (const [name, allowZero] of [["zero", false], ["bad", true]] as const) {
    assert.throws(
      () => durationFlag(cmd, name, 5, allowZero),
      (error: AppError) =>
        error.code === "usage" &&
        /^Invalid --\w+ "\w+": expected a duration such as 30s, 15m or 1h/.test(error.message),
    );
  }
});

Deno.test("argsConfig() and jsonText() shape options and output", () => {
  assert.deepEqual(
    argsConfig({
      ...JSON_OPTION,
      out: { type: "string", short: "o", help: "x" },
      seed: { type: "string", multiple: true, help: "x" },
    }),
    { json: { type: "boolean" }, out: { type: "string", short: "o" }, seed: { type: "string", multiple: true } },
  );
  assert.equal(jsonText({ a: [1] }), '{\n  "a": [\n    1\n  ]\n}\n');
});
