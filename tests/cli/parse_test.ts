import assert from "node:assert/strict";
import { COMMANDS, helpFor, parseCommand } from "../../lib/cli/commands.ts";
import { closest } from "../../lib/cli/parse.ts";
import { AppError } from "../../lib/core/errors.ts";

Deno.test("parseCommand: command words, flags, positionals and usage errors", async (t) => {
  await t.step("no command is serve; flags are parsed per command", () => {
    assert.equal(parseCommand([]).name, "serve");
    assert.equal(parseCommand(["--port", "0"]).flags.port, "0");
    const revoke = parseCommand(["keys", "revoke", "abc", "--json", "--db", "x.db"]);
    assert.equal(revoke.name, "keys revoke");
    assert.deepEqual(revoke.args, ["abc"]);
    assert.equal(revoke.flags.json, true);
    assert.equal(revoke.flags.db, "x.db");
    assert.deepEqual(parseCommand(["verify", "-"]).args, ["-"]);
  });
  await t.step("help for the program, a group and every command", () => {
    assert.equal(parseCommand(["--help"]).help, true);
    assert.equal(parseCommand(["keys", "--help"]).name, "keys");
    assert.equal(parseCommand(["keys", "import", "--help"]).help, true);
    assert.match(helpFor(""), /keys revoke KID/);
    assert.match(helpFor("keys"), /keys import FILE/);
    assert.match(helpFor("users"), /users add USERNAME/);
    for (const { name } of COMMANDS) {
      assert.match(helpFor(name), new RegExp(`^Usage: jwks-server ${name === "serve" ? "\\[serve\\]" : name}`), name);
    }
  });
  await t.step("usage errors name what is wrong and where to look", () => {
    const cases: [string[], RegExp][] = [
      [["bogus"], /Unknown command "bogus"; run "jwks-server --help"/],
      [["keys"], /Missing subcommand after "keys"/],
      [["keys", "--json"], /Missing subcommand after "keys"/],
      [["users", "delete"], /Unknown command "users delete"; run "jwks-server users --help"/],
      [["keys", "revoke"], /Missing KID \(see "jwks-server keys revoke --help"\)/],
      [["keys", "list", "extra"], /Unexpected argument "extra"/],
      [["users", "add"], /Missing USERNAME/],
      [["sign", "--nope"], /Unknown option '--nope'.*\(see "jwks-server sign --help"\)/],
      [["keygen", "--out"], /--out/],
    ];
    for (const [argv, pattern] of cases) {
      assert.throws(() => parseCommand(argv), (error: unknown) => {
        assert.ok(error instanceof AppError && error.code === "usage", argv.join(" "));
        assert.match(error.message, pattern);
        return true;
      });
    }
  });
});

Deno.test("closest() suggests a near name for a typo, and nothing for a far one", () => {
  const names = ["rotate", "revoke", "list", "import"];
  assert.equal(closest("rotat", names), "rotate");
  assert.equal(closest("revkoe", names), "revoke", "a transposition is one edit");
  assert.equal(closest("lsit", names), "list");
  assert.equal(closest("xyz", names), null);
  assert.equal(closest("anything", []), null);
});

Deno.test("a typo'd option or command gets a suggestion", () => {
  assert.throws(
    () => parseCommand(["sgin"]),
    /Unknown command "sgin" \(did you mean "sign"\?\); run "jwks-server --help"/,
  );
  assert.throws(() => parseCommand(["sign", "--kye", "x"]), /Unknown option '--kye', did you mean '--key'\?/);
  assert.throws(() => parseCommand(["rotat"]), /Unknown command "rotat"; run/, "no suggestion when nothing is near");
});

Deno.test("a kid that starts with '-' (1 in 64 thumbprints) is read as a value, as pasted from the JWKS", () => {
  const kid = "-NkN4sD4Q8uJkqiaaK5s6iOI7GxllX-mrW8Mq872-Xo";
  assert.equal(kid.length, 43);
  assert.deepEqual(parseCommand(["keys", "revoke", kid]).args, [kid]);
  assert.deepEqual(parseCommand(["keys", "revoke", "--", kid]).args, [kid], "'--' still works");
  const signed = parseCommand(["sign", "--kid", kid, "--key", "k.pem"]);
  assert.equal(signed.flags.kid, kid, "and as an option's value");
  assert.throws(() => parseCommand(["keys", "revoke", `${kid}x`]), /Unexpected argument|Unknown option/);
  assert.throws(
    () => parseCommand(["keys", "revoke", `-${"a".repeat(41)}`]),
    /goes after "--"/,
    "anything not kid-shaped is still an option",
  );
});

Deno.test("an argument that starts with '-' (a kid or client id) is taken after '--', and the error says so", () => {
  const parsed = parseCommand(["keys", "revoke", "--", "-M3kid"]);
  assert.deepEqual([parsed.name, parsed.args], ["keys revoke", ["-M3kid"]]);
  assert.deepEqual(parseCommand(["clients", "remove", "--", "-x_id"]).args, ["-x_id"]);
  assert.throws(
    () => parseCommand(["keys", "revoke", "-M3kid"]),
    /goes after "--", as in "jwks-server keys revoke -- -M3kid"/,
  );
});
