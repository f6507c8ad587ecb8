import assert from "node:assert/strict";
import { COMMANDS, helpFor, parseCommand, runCommand, VERSION } from "../../lib/cli/commands.ts";
import { AppError } from "../../lib/core/errors.ts";
import denoConfig from "../../deno.json" with { type: "json" };
import { cli } from "../support/cli.ts";
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

Deno.test("version and --version print the version from deno.json", async () => {
  assert.equal(VERSION, denoConfig.version);
  for (const argv of [["version"], ["--version"]]) {
    const result = await cli(argv);
    assert.equal(result.code, 0, argv.join(" "));
    assert.equal(result.stdout, `jwks-server ${denoConfig.version}\n`);
  }
});

Deno.test("the command table: one entry per command, each with a summary, help and every option in its help", () => {
  const names = COMMANDS.map((spec) => spec.name);
  assert.deepEqual(names, [
    "serve",
    "keys list",
    "keys rotate",
    "keys revoke",
    "keys import",
    "users add",
    "clients add",
    "clients list",
    "clients remove",
    "secret rotate",
    "backup",
    "restore",
    "keygen",
    "sign",
    "verify",
    "probe",
    "version",
  ]);
  for (const spec of COMMANDS) {
    assert.ok(spec.summary !== "" && spec.about !== "", spec.name);
    assert.ok(helpFor(spec.name).includes(spec.about.split("\n")[0]!), `${spec.name}: its help says what it does`);
    for (const [option, o] of Object.entries(spec.options ?? {})) {
      assert.ok(helpFor(spec.name).includes(`--${option}`), `${spec.name} --${option} is in its help`);
      assert.notEqual(o.help, "");
    }
  }
});

Deno.test("runCommand() refuses a command the table does not have", async () => {
  await assert.rejects(
    runCommand({ name: "keys delete", args: [], flags: {}, help: false }, {
      env: {},
      clock: testClock(),
      write() {},
      warn() {},
      readStdin: () => Promise.resolve(""),
    }),
    (error: unknown) => error instanceof AppError && error.code === "usage" && /"keys delete"/.test(error.message),
  );
});
