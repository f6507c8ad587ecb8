/**
 * The serve lifecycle without a process: a fake runtime records what `runServer` asks of
 * `Deno.serve`, `Deno.cron`, signals and timers, and the test plays the signals and ticks.
 * @module
 */
import assert from "node:assert/strict";
import { type ConnInfo } from "../lib/http/router.ts";
import { type Listener, runServer, type Runtime, SHUTDOWN_DEADLINE_MS, TICK_MS } from "../lib/server.ts";
import { loadConfig } from "../lib/settings.ts";
import { argon2AtMinimumCost, from, type TestClock, testClock } from "./support/helpers.ts";

interface Fake {
  runtime: Runtime;
  clock: TestClock;
  lines: Record<string, unknown>[];
  signal(name: "SIGINT" | "SIGTERM"): void;
  tick(): void;
  request(path: string, init?: RequestInit): Promise<Response>;
  shutdowns: number;
  cronAborted(): boolean;
  started: Promise<void>;
}

function fakeRuntime(options: { bind?: () => void; port?: number } = {}): Fake {
  const clock = testClock(Date.now());
  const lines: Record<string, unknown>[] = [];
  const signals = new Map<string, (() => void)[]>();
  let tickFn: (() => void) | null = null;
  let handler: ((request: Request, info: ConnInfo) => Response | Promise<Response>) | null = null;
  let cronSignal: AbortSignal | null = null;
  const started = Promise.withResolvers<void>();
  const fake: Fake = {
    clock,
    lines,
    shutdowns: 0,
    started: started.promise,
    signal: (name) => signals.get(name)?.forEach((listener) => listener()),
    tick: () => tickFn?.(),
    request: async (path, init) => await handler!(new Request(`http://127.0.0.1${path}`, init), from()),
    cronAborted: () => cronSignal?.aborted === true,
    runtime: {
      serve(serveOptions, serveHandler): Listener {
        options.bind?.();
        handler = serveHandler;
        serveOptions.onListen({ hostname: serveOptions.hostname, port: options.port ?? serveOptions.port });
        return {
          shutdown: () => {
            fake.shutdowns++;
            return Promise.resolve();
          },
        };
      },
      cron: (_name, _schedule, cronOptions) => {
        cronSignal = cronOptions.signal;
      },
      onSignal: (name, listener) => signals.set(name, [...(signals.get(name) ?? []), listener]),
      clock,
      sink: {
        write: (line) => {
          const parsed = JSON.parse(line);
          lines.push(parsed);
          if (parsed.msg === "listening") started.resolve();
        },
        flush: () => {},
      },
      cpus: 2,
      hasher: argon2AtMinimumCost,
      setInterval: (run, ms) => {
        assert.equal(ms, TICK_MS);
        tickFn = run;
        return 0 as unknown as ReturnType<typeof setInterval>;
      },
      clearInterval: () => {
        tickFn = null;
      },
    },
  };
  return fake;
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function tempDb(): Promise<{ dir: string; db: string }> {
  const dir = await Deno.makeTempDir();
  return { dir, db: `${dir}/keys.db` };
}

Deno.test("runServer binds the port before it creates anything on disk", async () => {
  const { dir, db } = await tempDb();
  try {
    const fake = fakeRuntime({
      bind: () => {
        throw new Deno.errors.AddrInUse("Address already in use");
      },
    });
    await assert.rejects(
      runServer(loadConfig({ db }, {}), fake.runtime),
      /^AppError: Port 127\.0\.0\.1:8080 is in use/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no database, no secret file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runServer serves, names the bound port as the issuer, and a signal drains to exit 0", async (t) => {
  const { dir, db } = await tempDb();
  const fake = fakeRuntime({ port: 40123 });
  try {
    const code = runServer(
      loadConfig({ db, port: "0", auth: "open" }, { NOT_MY_KEY: "server test secret" }),
      fake.runtime,
    );
    await fake.started;
    await t.step("the issuer names the port that was bound", async () => {
      const doc = await (await fake.request("/.well-known/openid-configuration")).json();
      assert.equal(doc.issuer, "http://127.0.0.1:40123");
      assert.equal(fake.lines.find((line) => line.msg === "listening")!.url, "http://127.0.0.1:40123");
    });
    await t.step("the tick runs the maintenance step", async () => {
      fake.tick();
      assert.equal((await fake.request("/readyz")).status, 200);
    });
    await t.step("two signals are one stop: the drain runs once and the exit code is 0", async () => {
      fake.signal("SIGINT");
      fake.signal("SIGTERM");
      assert.equal(await code, 0);
      assert.equal(fake.lines.filter((line) => line.msg === "shutting_down").length, 1);
      assert.equal(fake.lines.filter((line) => line.msg === "stopped").length, 1);
      assert.equal(fake.shutdowns, 1);
      assert.ok(fake.cronAborted(), "the cron trigger is cancelled");
      const late = await fake.request("/jwks");
      assert.equal(late.status, 503);
      assert.equal(late.headers.get("connection"), "close");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stop waits for the request in flight, and gives up with exit 1 when the deadline passes", async (t) => {
  const { dir, db } = await tempDb();
  try {
    await t.step("the request in flight finishes before the listener closes", async () => {
      const fake = fakeRuntime();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      fake.runtime.hasher = {
        hash: (password) => argon2AtMinimumCost.hash(password),
        verify: async (hash, password) => (await gate, await argon2AtMinimumCost.verify(hash, password)),
      };
      const code = runServer(
        loadConfig({ db, "seed-user": ["alice:pw-alice"], "rate-limit": "off" }, { NOT_MY_KEY: "server test secret" }),
        fake.runtime,
      );
      await fake.started;
      const login = fake.request("/auth", { method: "POST", headers: FORM, body: "username=alice&password=pw-alice" });
      fake.signal("SIGTERM");
      assert.equal(fake.shutdowns, 0, "the listener stays open while the login runs");
      release();
      assert.equal((await login).status, 200);
      assert.equal(await code, 0);
      assert.equal(fake.shutdowns, 1);
    });
    await t.step("a request that never finishes makes the stop exit 1 at the deadline", async () => {
      const fake = fakeRuntime();
      fake.runtime.hasher = { hash: (p) => argon2AtMinimumCost.hash(p), verify: () => new Promise(() => {}) };
      const code = runServer(
        loadConfig({ db, "rate-limit": "off" }, { NOT_MY_KEY: "server test secret" }),
        fake.runtime,
      );
      await fake.started;
      void fake.request("/auth", { method: "POST", headers: FORM, body: "username=alice&password=x" });
      fake.signal("SIGTERM");
      fake.clock.advance(SHUTDOWN_DEADLINE_MS + 1);
      assert.equal(await code, 1);
      assert.ok(fake.lines.some((line) => line.msg === "shutdown_deadline_passed"));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a start that fails after binding closes the listener and says why", async () => {
  const { dir, db } = await tempDb();
  try {
    const first = fakeRuntime();
    const code = runServer(loadConfig({ db }, { NOT_MY_KEY: "the first secret" }), first.runtime);
    await first.started;
    first.signal("SIGTERM");
    assert.equal(await code, 0);
    const second = fakeRuntime();
    await assert.rejects(
      runServer(loadConfig({ db }, { NOT_MY_KEY: "another secret" }), second.runtime),
      /does not match .* To start over with a new database instead .*: rm -f ".*keys\.db" /,
    );
    assert.equal(second.shutdowns, 1);
    assert.equal((await second.request("/jwks")).status, 503, "nothing is served from a failed start");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("on a terminal the start is a banner and log lines are readable; LOG_FORMAT=json keeps JSON", async (t) => {
  const { dir, db } = await tempDb();
  try {
    for (const [format, human] of [["auto", true], ["json", false]] as const) {
      await t.step(`--log-format ${format}`, async () => {
        const fake = fakeRuntime();
        const written: string[] = [];
        const listening = Promise.withResolvers<void>();
        fake.runtime.tty = true;
        fake.runtime.sink = {
          write: (text) => {
            written.push(text);
            if (text.includes("listening")) listening.resolve();
          },
          flush: () => {},
        };
        const code = runServer(loadConfig({ db, "log-format": format, auth: "open" }, {}), fake.runtime);
        await listening.promise;
        fake.signal("SIGTERM");
        assert.equal(await code, 0);
        const text = written.join("\n");
        if (human) {
          assert.match(text, /jwks-server \S+ listening on http:\/\/127\.0\.0\.1:8080/);
          assert.match(text, /WARNING: DEVELOPMENT MASTER SECRET/, "no NOT_MY_KEY: the box");
          assert.match(text, /^\d\d:\d\d:\d\d info {2}stopped signal=SIGTERM$/m, "log lines for people");
          assert.ok(!written.some((line) => line.startsWith("{")), "no JSON on a terminal");
        } else {
          for (const line of written) JSON.parse(line);
          assert.ok(written.some((line) => line.includes('"msg":"listening"')));
        }
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
