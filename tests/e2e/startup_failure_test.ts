import assert from "node:assert/strict";
import { postJson } from "../../torture/harness.ts";
import { createRng, seedFrom } from "../../torture/prng.ts";
import { withTempDir } from "../support/helpers.ts";
import { scenario, spawnServer, waitListening } from "../support/server_process.ts";

const DB = "totally_not_my_privateKeys.db";
const RIGHT = "the right master secret, 32 bytes";
const WRONG = "a wrong master secret, 32 bytes!!";

/** Every file in `dir` with its bytes; the `-shm` index is listed but not compared (SQLite rebuilds it on any read). */
function snapshot(dir: string): Map<string, Uint8Array | "index"> {
  const files = new Map<string, Uint8Array | "index">();
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    files.set(entry.name, entry.name.endsWith("-shm") ? "index" : Deno.readFileSync(`${dir}/${entry.name}`));
  }
  return files;
}

/** Starts the server and expects it to refuse: returns its exit code and stderr. */
async function refusedStart(cwd: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const server = spawnServer({ cwd, env, args: ["--rate-limit", "off"] });
  if (await server.listening.then(() => true, () => false)) {
    await server.stop("SIGKILL");
    assert.fail("the server started on a database it should have refused");
  }
  return { code: (await server.exited).code, stderr: server.stderr() };
}

function assertOneCleanLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line, got: ${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /^\s+at |Uncaught|Stack backtrace/m, "no stack trace");
  assert.ok(!stderr.includes(RIGHT) && !stderr.includes(WRONG), "no secret");
}

/** A database with keys and a few users, left either cleanly stopped or killed mid-flight (WAL not checkpointed). */
async function populated(crash: boolean): Promise<{ dir: string; users: Map<string, string> }> {
  const dir = await Deno.makeTempDir();
  const server = spawnServer({ cwd: dir, env: { NOT_MY_KEY: RIGHT }, args: ["--rate-limit", "off"] });
  const url = await waitListening(server);
  const users = new Map<string, string>();
  for (let i = 0; i < 20; i++) {
    const outcome = await postJson(`${url}/register`, { username: `user${i}`, email: `user${i}@example.com` });
    assert.ok(outcome.ok && outcome.status === 201);
    users.set(`user${i}`, JSON.parse(outcome.text).password);
  }
  if (crash) {
    server.kill("SIGKILL");
    await server.exited;
  } else {
    assert.equal(await server.stop(), 0);
  }
  return { dir, users };
}

scenario(
  "a wrong or missing NOT_MY_KEY exits 1 with one clear line and leaves the database byte-identical",
  async (t) => {
    for (const crash of [false, true]) {
      const { dir, users } = await populated(crash);
      try {
        for (
          const [what, env, pattern] of [
            [
              "a different NOT_MY_KEY",
              { NOT_MY_KEY: WRONG },
              /NOT_MY_KEY does not match the secret .* was created with/,
            ],
            ["no NOT_MY_KEY at all", {}, /was created with another master secret: set NOT_MY_KEY to it/],
          ] as const
        ) {
          await t.step(`${what}, after ${crash ? "a crash (WAL not checkpointed)" : "a clean stop"}`, async () => {
            const before = snapshot(dir);
            const { code, stderr } = await refusedStart(dir, env);
            assert.equal(code, 1);
            assertOneCleanLine(stderr, pattern);
            assert.deepEqual(
              snapshot(dir),
              before,
              "the same files, byte for byte (no WAL checkpoint, no secret file)",
            );
          });
        }
        await t.step(
          `the right secret still opens everything, after ${crash ? "a crash" : "a clean stop"}`,
          async () => {
            const server = spawnServer({ cwd: dir, env: { NOT_MY_KEY: RIGHT }, args: ["--rate-limit", "off"] });
            try {
              const url = await waitListening(server);
              for (const [username, password] of users) {
                const login = await postJson(`${url}/auth`, { username, password });
                assert.ok(login.ok && login.status === 200, `${username} logs in`);
              }
            } finally {
              assert.equal(await server.stop(), 0);
            }
          },
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
);

scenario("a truncated or garbage database file gives one clear line, exit 1, and is not overwritten", async (t) => {
  const seed = seedFrom(Deno.env.toObject(), 7);
  const rng = createRng(seed);
  const { dir: source } = await populated(false);
  const original = Deno.readFileSync(`${source}/${DB}`);
  await Deno.remove(source, { recursive: true });
  const size = original.byteLength;
  const damaged = /is not a SQLite database or is damaged|is damaged|is truncated/;

  const cases: [string, Uint8Array][] = [];
  for (
    const cut of [
      50,
      100,
      4096,
      size - 4096,
      size - 1,
      ...Array.from({ length: 8 }, () => rng.int(1, size - 1)),
    ]
  ) {
    cases.push([`cut to ${cut} of ${size} bytes`, original.slice(0, cut)]);
  }
  cases.push(["4 KiB of random bytes", rng.bytes(4096)]);
  cases.push(["64 KiB of random bytes", rng.bytes(65536)]);
  cases.push(["text", new TextEncoder().encode("this is not a database\n".repeat(500))]);
  const headerThenNoise = original.slice();
  headerThenNoise.set(rng.bytes(size - 100), 100);
  cases.push(["a valid header followed by noise", headerThenNoise]);

  for (const [what, bytes] of cases) {
    await t.step(`${what} (seed ${seed})`, async () => {
      await withTempDir(async (dir) => {
        Deno.writeFileSync(`${dir}/${DB}`, bytes);
        const { code, stderr } = await refusedStart(dir, { NOT_MY_KEY: RIGHT });
        assert.equal(code, 1);
        assertOneCleanLine(stderr, damaged);
        assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), [DB], "no file added");
        assert.deepEqual(Deno.readFileSync(`${dir}/${DB}`), bytes, "the file is byte-identical");
      });
    });
  }
});

scenario("a port in use exits 1 with one line and leaves the working directory as it was", async () => {
  await withTempDir(async (dir) => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = String((taken.addr as Deno.NetAddr).port);
      const server = spawnServer({ cwd: dir, args: ["--port", port] });
      const status = await server.exited;
      assert.equal(status.code, 1);
      assertOneCleanLine(server.stderr(), new RegExp(`^jwks-server: Port 127\\.0\\.0\\.1:${port} is in use`));
      assert.deepEqual([...Deno.readDirSync(dir)], [], "no database, no secret file");
    } finally {
      taken.close();
    }
  });
});
