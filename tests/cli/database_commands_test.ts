import assert from "node:assert/strict";
import { backup, restore } from "../../lib/cli/backup.ts";
import { clientsAdd, clientsList, clientsRemove } from "../../lib/cli/clients.ts";
import { DATABASE_COMMANDS } from "../../lib/cli/database_commands.ts";
import { keysImport, keysList, keysRevoke, keysRotate } from "../../lib/cli/keys.ts";
import { secretRotate } from "../../lib/cli/secret.ts";
import { usersAdd } from "../../lib/cli/users.ts";
import { ALGS } from "../../lib/core/key_material.ts";

const spec = (name: string) => DATABASE_COMMANDS.find((command) => command.name === name)!;

Deno.test("the database commands, in the overview's order, each run by its module", () => {
  const runners = {
    "keys list": keysList,
    "keys rotate": keysRotate,
    "keys revoke": keysRevoke,
    "keys import": keysImport,
    "users add": usersAdd,
    "clients add": clientsAdd,
    "clients list": clientsList,
    "clients remove": clientsRemove,
    "secret rotate": secretRotate,
    backup,
    restore,
  };
  assert.deepEqual(DATABASE_COMMANDS.map((command) => command.name), Object.keys(runners));
  for (const [name, run] of Object.entries(runners)) assert.equal(spec(name).run, run, name);
});

Deno.test("every database command takes the database settings", () => {
  for (const command of DATABASE_COMMANDS) assert.equal(command.scope, "db", command.name);
});

Deno.test("the keys commands can go through a running server's admin API with --server", () => {
  for (const command of DATABASE_COMMANDS.filter((command) => command.name.startsWith("keys "))) {
    assert.equal(command.options?.server?.type, "string", command.name);
    assert.match(command.options!.server!.help, /ADMIN_TOKEN/);
  }
});

Deno.test("commands that name one thing require it, and say so in their usage", () => {
  const required = Object.fromEntries(
    DATABASE_COMMANDS.filter((command) => command.required !== undefined).map((command) => [
      command.name,
      command.positionals,
    ]),
  );
  assert.deepEqual(required, {
    "keys revoke": ["KID"],
    "keys import": ["FILE"],
    "users add": ["USERNAME"],
    "clients add": ["NAME"],
    "clients remove": ["ID"],
    backup: ["FILE"],
    restore: ["FILE"],
  });
  for (const command of DATABASE_COMMANDS) {
    for (const positional of command.positionals ?? []) assert.ok(command.usage.startsWith(positional), command.name);
    for (const [, name] of command.usage.matchAll(/--([a-z-]+)/g)) {
      assert.ok(name! in (command.options ?? {}), `${command.name}: --${name} is declared`);
    }
  }
});

Deno.test("keys import lists every algorithm the server supports", () => {
  for (const alg of ALGS) assert.ok(spec("keys import").options!.alg!.help.includes(alg), alg);
});
