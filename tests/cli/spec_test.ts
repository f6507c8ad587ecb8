import assert from "node:assert/strict";
import { exitCodeOf } from "../../lib/cli/spec.ts";
import { AppError } from "../../lib/core/errors.ts";

Deno.test("exit codes: 2 for usage and configuration errors, 1 for other failures", () => {
  assert.equal(exitCodeOf(new AppError("usage", "x")), 2);
  assert.equal(exitCodeOf(new AppError("invalid_config", "x")), 2);
  assert.equal(exitCodeOf(new AppError("not_found", "x")), 1);
  assert.equal(exitCodeOf(new Error("boom")), 1);
});
