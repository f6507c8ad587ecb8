import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createApp } from "../../lib/app.ts";
import { secretCheck } from "../../lib/core/seal.ts";
import { describeSqliteError, openSqliteStore, runtimeSqliteError } from "../../lib/store/sqlite.ts";
import type { Store } from "../../lib/store/ports.ts";
import { call, postJson, spawnServer, waitListening } from "../../torture/harness.ts";
import { fastHasher, freshKey, from, testClock, testConfig } from "../support/helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const ALICE = { username: "alice", password: "alice-password-0123" };

/**
 * A real SQLite store whose writes fail, while `fault` is set, exactly as the driver fails
 * them (the same message through the same mapping); reads keep working, as on a full disk.
 */
function faultyStore(inner: Store, path: string): Store & { fault: string | null } {
  const state = { fault: null as string | null };
  const write = <A extends unknown[], R>(method: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    state.fault === null ? method(...args) : Promise.reject(runtimeSqliteError(new Error(state.fault), path));
  return {
    get fault() {
      return state.fault;
    },
    set fault(value) {
      state.fault = value;
    },
    description: inner.description,
    listKeys: () => inner.listKeys(),
    keysVersion: () => inner.keysVersion(),
    updateKeys: write((plan) => inner.updateKeys(plan)),
    createUser: write((user, now) => inner.createUser(user, now)),
    upsertUser: write((user, now) => inner.upsertUser(user, now)),
    findUser: (username) => inner.findUser(username),
    recordLogins: write((events) => inner.recordLogins(events)),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

const jsonPost = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

Deno.test("while the database cannot be written, /auth and /register answer 503 JSON, the JWKS keeps serving, and all recovers", async (t) => {
  for (const driverMessage of ["database or disk is full", "attempt to write a readonly database", "disk I/O error"]) {
    await t.step(driverMessage, async () => {
      const dir = await Deno.makeTempDir();
      const path = `${dir}/faults.db`;
      const clock = testClock();
      let store: ReturnType<typeof faultyStore> | null = null;
      const app = await createApp(
        testConfig({ auth: "password", "rate-limit": "off", "seed-user": [`${ALICE.username}:${ALICE.password}`] }),
        {
          clock,
          masterSecret: "disk fault test secret",
          hasher: fastHasher,
          generate: freshKey,
          openStore: (sealer) => (store = faultyStore(openSqliteStore(path, { secret: secretCheck(sealer) }), path)),
        },
      );
      const fetch = (route: string, init?: RequestInit) =>
        app.handle(new Request(`http://127.0.0.1${route}`, init), from());
      try {
        const jwks = await (await fetch("/.well-known/jwks.json")).text();
        assert.equal((await fetch("/auth", jsonPost(ALICE))).status, 200);
        await app.loginLog.flush();

        store!.fault = driverMessage;
        const register = await fetch("/register", jsonPost({ username: "bob", email: "bob@example.com" }));
        assert.equal(register.status, 503);
        const refusal = await register.json();
        assert.equal(refusal.error, "unavailable");
        assert.ok(
          !refusal.message.includes(path) && !refusal.message.includes(driverMessage),
          "no path or driver text",
        );
        assert.ok(Number(register.headers.get("retry-after")) >= 1);
        // The login that meets the fault is answered: its auth_logs row waits in memory.
        assert.equal((await fetch("/auth", jsonPost(ALICE))).status, 200);
        assert.equal(await app.loginLog.flush(), false, "its write fails");
        const refused = await fetch("/auth", jsonPost(ALICE));
        assert.equal(refused.status, 503, "later logins are refused while they cannot be recorded");
        assert.equal(refused.headers.get("content-type"), "application/json");
        assert.equal((await refused.json()).error, "unavailable");
        assert.ok(Number(refused.headers.get("retry-after")) >= 1);

        await assert.rejects(
          app.keys.apply({ kind: "rotate" }),
          (error: { code: string }) => error.code === "unavailable",
        );
        assert.equal(await (await fetch("/.well-known/jwks.json")).text(), jwks, "the JWKS is served unchanged");
        clock.advance(86_400_000 + 1000); // past the next activation: due changes cannot be written
        await assert.rejects(app.rotate(), (error: { code: string }) => error.code === "unavailable");
        const served = await fetch("/.well-known/jwks.json");
        assert.equal(served.status, 200, "the JWKS is still served from memory");
        assert.ok((await served.json()).keys.length > 0);

        store!.fault = null;
        assert.equal((await fetch("/register", jsonPost({ username: "bob", email: "bob@example.com" }))).status, 201);
        await app.refresh(); // the 2 s tick: retries the pending auth_logs rows
        assert.equal(app.loginLog.pending, 0);
        assert.equal((await fetch("/auth", jsonPost(ALICE))).status, 200, "logins are back");
        await app.loginLog.flush();
      } finally {
        await app.close();
      }
      const db = new DatabaseSync(path);
      try {
        const logins = db.prepare("SELECT COUNT(*) AS n FROM auth_logs").get() as { n: number };
        assert.equal(Number(logins.n), 3, "every answered login was recorded, including the one during the fault");
      } finally {
        db.close();
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

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
    const deadline = Date.now() + 15_000;
    let back = false;
    while (!back && Date.now() < deadline) {
      const outcome = await postJson(`${url}/auth`, ALICE);
      back = outcome.ok && outcome.status === 200;
      if (!back) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(back, "logins came back after the disk recovered");

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

Deno.test({
  name: "on a real full disk the server answers 503 JSON, keeps serving the JWKS, and recovers when space returns",
  ignore: !canMountTmpfs(),
  ...opts,
  async fn() {
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
});

Deno.test({
  name: "when the database files turn unwritable at run time the server answers 503 JSON, keeps the JWKS, and recovers",
  ignore: !canFreezeOpenFiles(),
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await realFault(dir, (db) => {
        // The -shm index stays writable: it is memory-mapped, and freezing it kills any SQLite process with SIGBUS.
        const files = [db, `${db}-wal`];
        assert.ok(run("chattr", "+i", ...files));
        return Promise.resolve(() => {
          run("chattr", "-i", ...files);
          return Promise.resolve();
        });
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
