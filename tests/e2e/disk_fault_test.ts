import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { describeSqliteError } from "../../lib/store/sqlite_errors.ts";
import { call, postJson } from "../../torture/harness.ts";
import { waitFor, withTempDir } from "../support/helpers.ts";
import { scenario, spawnServer, waitListening } from "../support/server_process.ts";

const ALICE = { username: "alice", password: "alice-password-0123" };

/** Runs a command; true when it exited 0. */
function run(command: string, ...args: string[]): boolean {
  try {
    return new Deno.Command(command, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** Whether we may mount a small tmpfs to fill up (root on Linux). */
function canMountTmpfs(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const dir = Deno.makeTempDirSync();
  try {
    if (!run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir)) return false;
    run("umount", dir);
    return true;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Whether `chattr +i` in the temp directory stops writes through a descriptor opened before it. */
function canFreezeOpenFiles(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const path = Deno.makeTempFileSync();
  const file = Deno.openSync(path, { write: true });
  try {
    if (!run("chattr", "+i", path)) return false;
    try {
      file.writeSync(new Uint8Array(1));
      return false;
    } catch {
      return true;
    } finally {
      run("chattr", "-i", path);
    }
  } finally {
    file.close();
    Deno.removeSync(path);
  }
}

/**
 * Runs the real server in `dir`, breaks its disk with `inject` (which returns the repair), and
 * checks what users see: 503 JSON on `/register` and (once a login could not be recorded) on
 * `/auth`, the JWKS served unchanged, recovery once repaired, and every 201 user intact after.
 */
async function realFault(dir: string, inject: (db: string) => Promise<() => Promise<void>>): Promise<void> {
  const env = { NOT_MY_KEY: "real disk fault test secret, 32 b" };
  const db = `${dir}/totally_not_my_privateKeys.db`;
  const server = spawnServer({
    cwd: dir,
    env,
    args: ["--rate-limit", "off", "--seed-user", `${ALICE.username}:${ALICE.password}`],
  });
  const registered = new Map<string, string>();
  let repair: (() => Promise<void>) | null = null;
  try {
    const url = await waitListening(server);
    let serial = 0;
    const register = async () => {
      const username = `user${serial++}`;
      const outcome = await postJson(`${url}/register`, { username, email: `${username}@example.com` });
      assert.ok(outcome.ok, JSON.stringify(outcome));
      if (outcome.status === 201) registered.set(username, JSON.parse(outcome.text).password);
      return outcome;
    };
    const jwks = await call(`${url}/.well-known/jwks.json`);
    assert.ok(jwks.ok && jwks.status === 200);
    assert.equal((await register()).ok && registered.size, 1);

    repair = await inject(db);
    const refusedRegistration = await register();
    assert.ok(refusedRegistration.ok);
    assert.equal(refusedRegistration.status, 503, refusedRegistration.text);
    assert.equal(JSON.parse(refusedRegistration.text).error, "unavailable");
    // Logins until one is refused: the first failed auth_logs write trips the breaker.
    let refusedLogin = null;
    for (let i = 0; i < 50 && refusedLogin === null; i++) {
      const outcome = await postJson(`${url}/auth`, ALICE);
      assert.ok(outcome.ok && (outcome.status === 200 || outcome.status === 503), JSON.stringify(outcome));
      if (outcome.status === 503) refusedLogin = outcome;
    }
    assert.ok(refusedLogin !== null, "logins are refused while they cannot be recorded");
    assert.equal(JSON.parse(refusedLogin.text).error, "unavailable");
    const served = await call(`${url}/.well-known/jwks.json`);
    assert.ok(served.ok && served.status === 200);
    assert.equal(served.text, jwks.text, "the JWKS is served unchanged");

    await repair();
    repair = null;
    const again = await register();
    assert.ok(again.ok && again.status === 201, JSON.stringify(again));
    // Logins come back at the next 2 s tick, which retries the pending auth_logs rows.
    await waitFor("logins to come back after the disk recovered", async () => {
      const outcome = await postJson(`${url}/auth`, ALICE);
      return outcome.ok && outcome.status === 200;
    }, 15_000);

    assert.ok(server.running(), "the server never went down");
    assert.equal(await server.stop(), 0);
    const check = new DatabaseSync(db);
    try {
      assert.deepEqual(check.prepare("PRAGMA integrity_check").all().map((row) => row.integrity_check), ["ok"]);
    } finally {
      check.close();
    }
    const restarted = spawnServer({ cwd: dir, env, args: ["--rate-limit", "off"] });
    try {
      const url2 = await waitListening(restarted);
      for (const [username, password] of registered) {
        const login = await postJson(`${url2}/auth`, { username, password });
        assert.ok(login.ok && login.status === 200, `${username}, registered around the fault, logs in`);
      }
    } finally {
      assert.equal(await restarted.stop(), 0);
    }
  } finally {
    await repair?.();
    await server.stop("SIGKILL");
  }
}

scenario(
  "on a real full disk the server answers 503 JSON, keeps serving the JWKS, and recovers when space returns",
  async () => {
    const dir = await Deno.makeTempDir();
    assert.ok(run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir), "mount an 8 MiB tmpfs");
    try {
      await realFault(dir, async () => {
        const filler = await Deno.open(`${dir}/filler`, { write: true, create: true });
        try {
          for (let i = 0; i < 1000; i++) await filler.write(new Uint8Array(64 * 1024));
          assert.fail("the 8 MiB tmpfs never filled up");
        } catch (error) {
          assert.match(String(error), /No space left/);
        } finally {
          filler.close();
        }
        return () => Deno.remove(`${dir}/filler`);
      });
    } finally {
      run("umount", "-l", dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
  { ignore: !canMountTmpfs() },
);

scenario(
  "when the database files turn unwritable at run time the server answers 503 JSON, keeps the JWKS, and recovers",
  async () => {
    await withTempDir(async (dir) => {
      await realFault(dir, (db) => {
        // The -shm index stays writable: it is memory-mapped, and freezing it kills any SQLite process with SIGBUS.
        const files = [db, `${db}-wal`];
        assert.ok(run("chattr", "+i", ...files));
        return Promise.resolve(() => {
          run("chattr", "-i", ...files);
          return Promise.resolve();
        });
      });
    });
  },
  { ignore: !canFreezeOpenFiles() },
);

Deno.test("describeSqliteError() sorts driver failures into damaged, unavailable and internal", () => {
  const code = (message: string) => describeSqliteError(new Error(message), "x.db").code;
  assert.equal(code("database or disk is full"), "unavailable");
  assert.equal(code("attempt to write a readonly database"), "unavailable");
  assert.equal(code("disk I/O error"), "unavailable");
  assert.equal(code("database is locked"), "unavailable");
  assert.equal(code("database disk image is malformed"), "corrupt_data");
  assert.equal(code("file is not a database"), "corrupt_data");
  assert.equal(code("no such table: nope"), "internal");
});
