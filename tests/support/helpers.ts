/**
 * Shared test fixtures: a clock the test moves, real key material made once per algorithm
 * (fresh keys on demand), an app built exactly as `main.ts` builds it on a real SQLite database
 * with real Argon2id at the lowest cost the product accepts, the one `withApp` helper around it,
 * and the one polling helper (`waitFor`) for tests that wait on another process.
 * @module
 */
import { type App, type AppOptions, createApp } from "../../lib/app.ts";
import { type Alg, generateKeyMaterial, type KeyMaterial } from "../../lib/core/key_material.ts";
import { type ConnInfo } from "../../lib/http/router.ts";
import { createLogger, type Logger } from "../../lib/ops/log.ts";
import { type Config, loadConfig } from "../../lib/settings.ts";
import { argon2Hasher } from "../../lib/users/argon2.ts";
import { type Hasher } from "../../lib/users/hash_queue.ts";

/** A clock the test controls, in unix milliseconds. */
export interface TestClock {
  (): number;
  set(ms: number): void;
  advance(ms: number): void;
}

/** 2026-11-22T00:00:00Z, a fixed start for every test clock. */
export const T0 = Date.UTC(2026, 10, 22);

/** Makes a {@linkcode TestClock} starting at `start`. */
export function testClock(start = T0): TestClock {
  let now = start;
  const clock = (() => now) as TestClock;
  clock.set = (ms) => {
    now = ms;
  };
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

/** Real key material, generated ahead in batches so tests do not wait on RSA one key at a time. */
const pools = new Map<Alg, Promise<KeyMaterial>[]>();

/** A fresh real key for `alg`; RSA keys are generated in parallel batches of four. */
export function freshKey(alg: Alg): Promise<KeyMaterial> {
  let pool = pools.get(alg);
  if (pool === undefined) pools.set(alg, pool = []);
  if (pool.length === 0) { for (let i = 0; i < 4; i++) pool.push(generateKeyMaterial(alg)); }
  return pool.shift()!;
}

/**
 * Real Argon2id at the minimum cost the product accepts (OWASP's m = 19 MiB, t = 2, p = 1): not
 * fast, just the cheapest hasher that is still the real one.
 */
export const argon2AtMinimumCost: Hasher = argon2Hasher();

/** The connection info of a request from `ip`. */
export function from(ip = "127.0.0.1"): ConnInfo {
  return { remoteAddr: { hostname: ip } };
}

/**
 * Config from flags and env, with test-friendly defaults: an in-memory DB, open mode, and ES256
 * keys unless the test names an algorithm (an RSA key costs ~50 times more to generate, and most
 * rules do not depend on the algorithm; tests about RS256, the product's default, ask for it).
 */
export function testConfig(flags: TestFlags = {}, env: Record<string, string> = {}): Config {
  const alg = env.JWKS_ALG === undefined ? { alg: "ES256" } : {};
  return loadConfig({ db: ":memory:", auth: "open", ...alg, ...flags }, env);
}

/** A test app: real SQLite (in memory unless `db` is given), real crypto, a controlled clock. */
export interface TestApp extends App {
  clock: TestClock;
  /** Sends a request to `handle()` as from `ip`. */
  fetch(path: string, init?: RequestInit & { ip?: string }): Promise<Response>;
}

/** Flags as a command line would give them. */
export type TestFlags = Record<string, string | boolean | string[]>;

/** Options of {@linkcode testApp}. */
export interface TestAppOptions {
  clock?: TestClock;
  secret?: string;
  hasher?: Hasher;
  env?: Record<string, string>;
  log?: Logger;
  /** Passed to `createApp` as they are (routes, hooks, overrides). */
  app?: Partial<AppOptions>;
}

/** Builds a {@linkcode TestApp}. Close it with `await app.close()`, or use {@linkcode withApp}. */
export async function testApp(flags: TestFlags = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? testClock();
  const config = testConfig(flags, options.env);
  const app = await createApp(config, {
    clock,
    masterSecret: options.secret ?? "test master secret, not for production",
    hasher: options.hasher ?? argon2AtMinimumCost,
    generate: freshKey,
    ...(options.log ? { log: options.log } : {}),
    ...options.app,
  });
  return Object.assign(app, {
    clock,
    fetch(path: string, init: RequestInit & { ip?: string } = {}) {
      const { ip, ...rest } = init;
      return Promise.resolve(app.handle(new Request(`http://127.0.0.1:8080${path}`, rest), from(ip)));
    },
  });
}

/** A `fetch` that answers from `app` in-process, for clients that take one (verify, jose). */
export function fetchFrom(app: Pick<App, "handle">, ip?: string): typeof fetch {
  return (input, init) => Promise.resolve(app.handle(new Request(input, init), from(ip)));
}

/** Reads a JSON response body. */
export async function body<T = Record<string, unknown>>(response: Response): Promise<T> {
  return await response.json() as T;
}

/** The header the course grader sends on every request: public endpoints must ignore it. */
export const GRADER_BEARER: Readonly<Record<string, string>> = Object.freeze({
  authorization: `Bearer ${"ab".repeat(32)}`,
});

/** The JWKS `app` publishes now. */
export async function publishedKeys(app: Pick<TestApp, "fetch">): Promise<{ keys: Record<string, unknown>[] }> {
  return await body<{ keys: Record<string, unknown>[] }>(await app.fetch("/.well-known/jwks.json"));
}

/** A token from `POST /auth` (or `path`), which must answer 200. */
export async function tokenFrom(
  app: Pick<TestApp, "fetch">,
  path = "/auth",
  init: RequestInit = { method: "POST" },
): Promise<string> {
  const response = await app.fetch(path, init);
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return (await body<{ token: string }>(response)).token;
}

/** `POST /register` as JSON; returns the response and its parsed body. */
export async function register(
  app: Pick<TestApp, "fetch">,
  username: string,
  email = `${username}@test.com`,
): Promise<{ response: Response; json: Record<string, unknown> }> {
  const response = await app.fetch("/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, email }),
  });
  return { response, json: await body(response) };
}

/** A logger that keeps every line (parsed) for the test to read. */
export function captureLog(clock: () => number = testClock()): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "debug", clock, write: (line) => lines.push(JSON.parse(line)) });
  return Object.assign(log, { lines });
}

/** Every TypeScript file under lib/, as paths relative to lib/ (`core/tokens.ts`), sorted. */
export function libFiles(): string[] {
  const root = new URL("../../lib/", import.meta.url);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, root))) {
      if (entry.isDirectory) walk(`${dir}${entry.name}/`);
      else if (entry.isFile && entry.name.endsWith(".ts")) out.push(`${dir}${entry.name}`);
    }
  };
  walk("");
  return out.sort();
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `fn` with a {@linkcode TestApp} and closes it afterwards. With `onDisk` the database is
 * `totally_not_my_privateKeys.db` in a fresh temporary directory (its path is `app.config.db`),
 * removed afterwards; otherwise it is in memory unless `flags.db` says where.
 */
export async function withApp<T>(
  flags: TestFlags,
  fn: (app: TestApp) => T | Promise<T>,
  options: TestAppOptions & { onDisk?: boolean } = {},
): Promise<T> {
  const { onDisk, ...rest } = options;
  const run = async (testFlags: TestFlags) => {
    const app = await testApp(testFlags, rest);
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  };
  return onDisk
    ? await withTempDir((dir) => run({ ...flags, db: `${dir}/totally_not_my_privateKeys.db` }))
    : await run(flags);
}

/**
 * Resolves with the first value of `check()` that is not undefined, null or false, polling every
 * 25 ms: waiting for an event another process makes, never for time itself. Rejects naming
 * `what` after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Runs `fn` with a {@linkcode TestApp} served on an ephemeral loopback port, its issuer naming
 * that port (the port is bound first, as the server does). Shuts both down afterwards.
 */
export async function withServedApp<T>(
  flags: TestFlags,
  fn: (url: string, app: TestApp) => Promise<T>,
  options: TestAppOptions = {},
): Promise<T> {
  let app: TestApp | null = null;
  const listening = Promise.withResolvers<string>();
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => listening.resolve(`http://127.0.0.1:${port}`),
  }, (request, info) => app === null ? new Response(null, { status: 503 }) : app.handle(request, info));
  try {
    const url = await listening.promise;
    app = await testApp({ ...flags, issuer: url }, options);
    return await fn(url, app);
  } finally {
    await server.shutdown();
    await app?.close();
  }
}

/**
 * A test's reason to skip itself (a tool that is not installed), or null. Under `.ci/run`
 * (`CI_REQUIRE_TOOLS=1`) a missing tool is an error instead: CI installs every tool the tests
 * use, so a skip there would hide a missing install step.
 */
export function skipUnlessInstalled(reason: string | null): string | null {
  if (reason !== null && Deno.env.get("CI_REQUIRE_TOOLS") === "1") {
    throw new Error(`${reason}, and CI_REQUIRE_TOOLS=1: .ci/run should have installed it`);
  }
  if (reason !== null) console.warn(`skipped: ${reason}`);
  return reason;
}
