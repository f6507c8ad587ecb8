/**
 * File modes as the process leaves them, under the usual umask 022: the database, its `-wal`
 * and `-shm` and the development secret are owner-only, a database left world-readable by an
 * earlier version is tightened, and a development secret others could read or swap refuses the
 * start with one line saying how to fix it.
 * @module
 */
import assert from "node:assert/strict";
import { withTempDir } from "../support/helpers.ts";
import { runCli, scenario, withServer } from "../support/server_process.ts";

const DB = "totally_not_my_privateKeys.db";
const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

scenario("the database, its -wal and -shm and the development secret are created 0600", async () => {
  await withServer({ args: ["--auth", "open"] }, async (server, cwd) => {
    const response = await fetch(`${server.url}/auth`, { method: "POST" });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    for (const name of [DB, `${DB}-wal`, `${DB}-shm`, `${DB}.secret`]) {
      assert.equal(mode(`${cwd}/${name}`), 0o600, name);
    }
    assert.equal(await server.stop(), 0);
  });
});

scenario("a world-readable database from an earlier start is tightened to 0600 once the secret matched", async () => {
  await withTempDir(async (cwd) => {
    const env = { NOT_MY_KEY: "file modes test secret, 32 bytes" };
    await withServer({ cwd, env }, async (server) => assert.equal(await server.stop(), 0));
    Deno.chmodSync(`${cwd}/${DB}`, 0o644);
    const wrong = await runCli(["serve", "--port", "0"], {
      cwd,
      env: { NOT_MY_KEY: "another secret, also 32 bytes!!" },
    });
    assert.equal(wrong.code, 1);
    assert.equal(mode(`${cwd}/${DB}`), 0o644, "a refused start changes nothing, modes included");
    await withServer({ cwd, env }, async (server) => {
      assert.equal(mode(`${cwd}/${DB}`), 0o600);
      assert.equal(await server.stop(), 0);
    });
  });
});

scenario(
  "a development secret that is 0644 or a symlink refuses the start with one line saying how to fix it",
  async () => {
    await withTempDir(async (cwd) => {
      await withServer({ cwd }, async (server) => assert.equal(await server.stop(), 0));
      const secret = `${cwd}/${DB}.secret`;
      Deno.chmodSync(secret, 0o644);
      const open = await runCli(["serve", "--port", "0"], { cwd });
      assert.equal(open.code, 2);
      assert.deepEqual(open.stderr.trim().split("\n"), [
        `jwks-server: Development secret file "./${DB}.secret" is readable by others (mode 0644); run: chmod 600 "./${DB}.secret"`,
      ]);
      Deno.chmodSync(secret, 0o600);
      Deno.renameSync(secret, `${cwd}/real.secret`);
      Deno.symlinkSync(`${cwd}/real.secret`, secret);
      const linked = await runCli(["serve", "--port", "0"], { cwd });
      assert.equal(linked.code, 2);
      assert.match(
        linked.stderr.trim(),
        /^jwks-server: Development secret file ".*" is a symlink; replace it with the file itself \(or set NOT_MY_KEY\)$/,
      );
    });
  },
);

scenario("--seed-users-file seeds users from an owner-only file, and refuses one others can read", async () => {
  await withTempDir(async (cwd) => {
    await Deno.writeTextFile(`${cwd}/users`, "alice:correct horse, battery: staple\n", { mode: 0o600 });
    await withServer({ cwd, args: ["--seed-users-file", "users"] }, async (server) => {
      const response = await fetch(`${server.url}/auth`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "alice", password: "correct horse, battery: staple" }),
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
      assert.ok(!server.lines.join("\n").includes("battery"), "the password is never logged");
      assert.equal(await server.stop(), 0);
    });
    Deno.chmodSync(`${cwd}/users`, 0o644);
    const refused = await runCli(["serve", "--port", "0", "--seed-users-file", "users"], { cwd });
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr.trim(),
      'jwks-server: Seed users file "users" is readable by others (mode 0644); run: chmod 600 "users"',
    );
  });
});
