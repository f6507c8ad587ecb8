import assert from "node:assert/strict";
import { CLIENT_COMMANDS } from "../../lib/cli/client_commands.ts";
import { keygen, sign, verify } from "../../lib/cli/jwt.ts";
import { probe } from "../../lib/cli/probe.ts";
import { CASES } from "../../lib/probe/catalogue.ts";

const spec = (name: string) => CLIENT_COMMANDS.find((command) => command.name === name)!;

Deno.test("the JWT client commands are keygen, sign, verify and probe, each run by its own module", () => {
  assert.deepEqual(CLIENT_COMMANDS.map((command) => command.name), ["keygen", "sign", "verify", "probe"]);
  assert.equal(spec("keygen").run, keygen);
  assert.equal(spec("sign").run, sign);
  assert.equal(spec("verify").run, verify);
  assert.equal(spec("probe").run, probe);
});

Deno.test("only probe reads the server's database; the others take no server settings", () => {
  for (const command of CLIENT_COMMANDS) {
    assert.equal(command.scope, command.name === "probe" ? "db" : null, command.name);
  }
});

Deno.test("every option a usage line names is declared, and every positional is in the usage", () => {
  for (const command of CLIENT_COMMANDS) {
    for (const [, name] of command.usage.matchAll(/--([a-z-]+)/g)) {
      assert.ok(name! in (command.options ?? {}), `${command.name}: --${name} is declared`);
    }
    for (const positional of command.positionals ?? []) {
      assert.ok(command.usage.includes(positional), `${command.name}: ${positional} is in its usage`);
    }
    assert.ok((command.required ?? 0) <= (command.positionals ?? []).length, command.name);
  }
  assert.equal(spec("probe").required, 1, "probe needs its URL");
  assert.equal(spec("keygen").options!.out!.short, "o");
  assert.equal(spec("sign").options!.key!.short, "k");
});

Deno.test("probe's help counts the forged tokens the catalogue really has", () => {
  const count = Number(/and (\d+) forged ones/.exec(spec("probe").about)?.[1]);
  assert.equal(count, CASES.length);
});
