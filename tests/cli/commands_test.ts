import assert from "node:assert/strict";
import { parseCommand, runCommand } from "../../lib/cli/commands.ts";
import { AppError } from "../../lib/core/errors.ts";
import { testClock } from "../support/helpers.ts";

Deno.test("serve runs through the io's serve hook with the settings it parsed, and its exit code", async () => {
  const served: number[] = [];
  const code = await runCommand(parseCommand(["serve", "--port", "9001"]), {
    env: { AUTH_MODE: "open" },
    clock: testClock(),
    write: () => {},
    warn: () => {},
    readStdin: () => Promise.resolve(""),
    serve: (config) => (served.push(config.port), assert.equal(config.authMode, "open"), Promise.resolve(3)),
  });
  assert.equal(code, 3);
  assert.deepEqual(served, [9001]);
  await assert.rejects(
    runCommand(parseCommand(["serve"]), {
      env: {},
      clock: testClock(),
      write() {},
      warn() {},
      readStdin: () => Promise.resolve(""),
    }),
    (error: unknown) => error instanceof AppError && error.code === "internal",
  );
});
