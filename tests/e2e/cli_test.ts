/**
 * The CLI as a user runs it, against the real program: `--help` and usage errors of every
 * command, and keygen → keys import → sign → verify, keys rotate and users add on the database
 * of a running server, which picks the changes up without a restart.
 * @module
 */
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "../support/helpers.ts";
import denoConfig from "../../deno.json" with { type: "json" };
import {
  compilePermissions,
  runCli,
  type RunResult,
  scenario,
  type StartedServer,
  withServer,
} from "../support/server_process.ts";

const SECRET = "cli test secret, 32 bytes long!!";
const ADMIN_TOKEN = "cli-test-admin-token-0123456789";

async function jwks(server: StartedServer): Promise<{ etag: string; kids: string[] }> {
  const response = await fetch(`${server.url}/.well-known/jwks.json`);
  const doc = await response.json() as { keys: { kid: string }[] };
  return { etag: response.headers.get("etag")!, kids: doc.keys.map((key) => key.kid) };
}

function oneLine(result: RunResult): string {
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one stderr line, got: ${result.stderr}`);
  assert.match(lines[0]!, /^jwks-server: /);
  return lines[0]!;
}

scenario("every command answers --help with exit 0, and bad usage with one line and exit 2", async (t) => {
  await withTempDir(async (cwd) => {
    await t.step("--help", async () => {
      const commands = [
        ["keys"],
        ["keys", "list"],
        ["keys", "rotate"],
        ["keys", "revoke"],
        ["keys", "import"],
        [
          "users",
          "add",
        ],
        ["keygen"],
        ["sign"],
        ["verify"],
        ["serve"],
        [],
      ];
      for (const command of commands) {
        const result = await runCli([...command, "--help"], { cwd });
        assert.equal(result.code, 0, command.join(" "));
        assert.match(result.stdout, /Usage: jwks-server/);
        assert.equal(result.stderr, "");
      }
    });
    await t.step("usage errors", async () => {
      const cases: [string[], RegExp][] = [
        [["bogus"], /Unknown command "bogus"/],
        [["keys"], /Missing subcommand after "keys"/],
        [["keys", "revoke"], /Missing KID/],
        [["keys", "import"], /Missing FILE/],
        [["keys", "list", "--bogus"], /Unknown option '--bogus'/],
        [["keys", "rotate", "--rotate-every", "1s"], /Invalid --rotate-every "1s"/],
        [["users", "add"], /Missing USERNAME/],
        [["keygen"], /Missing --out FILE/],
        [["keygen", "--out", "k.pem", "--alg", "HS256"], /Invalid --alg "HS256"/],
        [["sign"], /Missing --key FILE/],
        [["sign", "--key", "k.pem", "--ttl", "later"], /Invalid --ttl "later"/],
        [["verify", "x.y.z"], /Missing --jwks URL/],
        [["verify", "x.y.z", "--jwks", "ftp://example.com/jwks"], /expected an http:\/\/ or https:\/\/ URL/],
      ];
      for (const [argv, pattern] of cases) {
        const result = await runCli(argv, { cwd, env: { NOT_MY_KEY: SECRET } });
        assert.equal(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
        assert.match(oneLine(result), pattern);
        assert.equal(result.stdout, "");
      }
      assert.deepEqual([...Deno.readDirSync(cwd)], [], "usage errors create no files");
    });
    await t.step("a bad key file is exit 1 with one line", async () => {
      await Deno.writeTextFile(`${cwd}/bad.pem`, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
      for (const argv of [["keys", "import", "bad.pem"], ["sign", "--key", "bad.pem"]]) {
        const result = await runCli(argv, { cwd, env: { NOT_MY_KEY: SECRET } });
        assert.equal(result.code, 1, argv.join(" "));
        assert.match(oneLine(result), /The PEM file holds no private key \(found "PUBLIC KEY"\)/);
      }
      const missing = await runCli(["sign", "--key", "missing.pem"], { cwd });
      assert.equal(missing.code, 1);
      assert.match(oneLine(missing), /Key file "missing.pem" does not exist/);
    });
  });
});

scenario("keygen → keys import → sign → verify round trip against a running server, and why tokens fail", async (t) => {
  const env = { NOT_MY_KEY: SECRET, JWKS_ALG: "ES256", ADMIN_TOKEN };
  await withServer({ env, args: ["--auth", "open"] }, async (server, cwd) => {
    const jwksUrl = `${server.url}/.well-known/jwks.json`;
    const keygen = await runCli(["keygen", "--alg", "RS256", "--out", "mine.pem"], { cwd });
    assert.equal(keygen.code, 0, keygen.stderr);
    const kid: string = JSON.parse(keygen.stdout).kid;
    assert.equal((await Deno.stat(`${cwd}/mine.pem`)).mode! & 0o777, 0o600);

    await t.step("keys import on the server's database: the server publishes the key without a restart", async () => {
      const imported = await runCli(["keys", "import", "mine.pem"], { cwd, env });
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, new RegExp(`Published ${kid} \\(RS256\\)`));
      await waitFor("the imported kid in the JWKS", async () => (await jwks(server)).kids.includes(kid) || undefined);
    });

    const sign = async (...args: string[]) => {
      const result = await runCli(["sign", "--key", "mine.pem", "--issuer", server.url, ...args], { cwd });
      assert.equal(result.code, 0, result.stderr);
      return result.stdout.trim();
    };
    const verify = (token: string, ...args: string[]) =>
      runCli(["verify", token, "--jwks", jwksUrl, "--issuer", server.url, ...args], { cwd });

    await t.step("a token signed with the key verifies, printing its claims", async () => {
      const result = await verify(await sign("--subject", "alice"));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).sub, "alice");
      const json = await verify(await sign(), "--json");
      assert.equal(JSON.parse(json.stdout).valid, true);
    });
    await t.step("tokens the server issues verify too", async () => {
      const response = await fetch(`${server.url}/auth`, { method: "POST" });
      const { token } = await response.json();
      const result = await verify(token);
      assert.equal(result.code, 0, result.stderr);
    });
    await t.step("an expired token: exit 1, one line saying when", async () => {
      const result = await verify(await sign("--claims", `{"exp": ${Math.floor(Date.now() / 1000) - 3600}}`));
      assert.equal(result.code, 1);
      assert.match(oneLine(result), /^jwks-server: Token expired at \S+Z \(now \S+Z, clock tolerance 60 s\)$/);
    });
    await t.step("a tampered token: bad signature", async () => {
      const [header, payload, signature] = (await sign()).split(".");
      const flipped = signature!.slice(0, 10) + (signature![10] === "A" ? "B" : "A") + signature!.slice(11);
      const result = await verify([header, payload, flipped].join("."), "--json");
      assert.equal(result.code, 1);
      assert.match(oneLine(result), /Bad signature: the token was altered or not signed by the key/);
      assert.equal(JSON.parse(result.stdout).reason, "bad_signature");
    });
    await t.step("a token for another issuer: wrong issuer", async () => {
      const result = await runCli(
        ["verify", await sign(), "--jwks", jwksUrl, "--issuer", "https://issuer.example"],
        { cwd },
      );
      assert.equal(result.code, 1);
      assert.match(oneLine(result), /Wrong issuer ".*", expected "https:\/\/issuer.example"/);
    });
    await t.step("the admin API lists the imported key", async () => {
      const response = await fetch(`${server.url}/admin/keys`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(response.status, 200);
      const { keys } = await response.json();
      assert.equal(keys.find((key: { kid: string }) => key.kid === kid)?.status, "next");
    });
    await t.step("after keys revoke: the kid leaves the JWKS and the token fails as an unknown kid", async () => {
      const token = await sign();
      const revoked = await runCli(["keys", "revoke", kid], { cwd, env });
      assert.equal(revoked.code, 0, revoked.stderr);
      await waitFor(
        "the revoked kid to leave the JWKS",
        async () => (await jwks(server)).kids.includes(kid) ? undefined : true,
      );
      const result = await verify(token);
      assert.equal(result.code, 1);
      assert.match(oneLine(result), new RegExp(`Unknown kid "${kid}": no such key in ${jwksUrl}`));
    });
    assert.equal(await server.stop(), 0);
  });
});

scenario("keys rotate on a running server's database changes its JWKS and ETag without a restart", async () => {
  const env = { NOT_MY_KEY: SECRET, JWKS_ALG: "ES256" };
  await withServer({ env }, async (server, cwd) => {
    const before = await jwks(server);
    const rotated = await runCli(["keys", "rotate", "--json"], { cwd, env });
    assert.equal(rotated.code, 0, rotated.stderr);
    const created: string[] = JSON.parse(rotated.stdout).changes
      .filter((change: { event: string }) => change.event === "key_created")
      .map((change: { kid: string }) => change.kid);
    assert.equal(created.length, 1);
    const after = await waitFor("a new JWKS ETag", async () => {
      const now = await jwks(server);
      return now.etag !== before.etag ? now : undefined;
    });
    assert.ok(after.kids.includes(created[0]!), "the new next key is published");
    assert.ok(before.kids.every((kid) => after.kids.includes(kid)), "no published key vanished");
    const listed = JSON.parse((await runCli(["keys", "list", "--json"], { cwd, env })).stdout);
    assert.deepEqual(
      listed.keys.filter((key: { published: boolean }) => key.published).map((key: { kid: string }) => key.kid)
        .sort(),
      after.kids.toSorted(),
    );
    assert.equal(await server.stop(), 0);
  });
});

scenario("users add prints a password once, and the running server accepts it", async () => {
  const env = { NOT_MY_KEY: SECRET, JWKS_ALG: "ES256" };
  await withServer({ env }, async (server, cwd) => {
    const added = await runCli(["users", "add", "carol", "--json"], { cwd, env });
    assert.equal(added.code, 0, added.stderr);
    const { password } = JSON.parse(added.stdout);
    const response = await fetch(`${server.url}/auth`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "carol", password }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.body?.cancel();
    const again = await runCli(["users", "add", "carol"], { cwd, env });
    assert.equal(again.code, 1);
    assert.match(oneLine(again), /already registered/);
    assert.equal(await server.stop(), 0);
  });
});

scenario(
  "the ./jwks-server launcher runs the program in the caller's directory with the binary's permissions",
  async () => {
    const launcher = new URL("../../jwks-server", import.meta.url).pathname;
    const text = await Deno.readTextFile(launcher);
    const flags = text.split(/\s+/).filter((word) => /^--(allow|deny|ignore)-|^--no-prompt$/.test(word));
    assert.deepEqual(flags, compilePermissions());
    await withTempDir(async (cwd) => {
      const env = {
        PATH: Deno.env.get("PATH")!,
        HOME: Deno.env.get("HOME") ?? "/",
        NOT_MY_KEY: "launcher test secret, 32 bytes!!",
      };
      const run = (args: string[]) => new Deno.Command(launcher, { args, cwd, env, clearEnv: true }).output();
      const version = await run(["--version"]);
      assert.equal(new TextDecoder().decode(version.stdout), `jwks-server ${denoConfig.version}\n`);
      const rotated = await run(["keys", "rotate"]);
      assert.equal(rotated.code, 0, new TextDecoder().decode(rotated.stderr));
      await Deno.stat(`${cwd}/totally_not_my_privateKeys.db`);
    });
  },
);
