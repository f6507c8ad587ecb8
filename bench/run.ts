/**
 * `deno task bench`: the micro benchmarks (`deno bench bench/`) and the HTTP load benchmark of
 * the real program against references started in the same run with the same pinning: (a) a bare
 * `Deno.serve` returning a fixed JSON body the size of our JWKS, (b) a bare Node.js `http` +
 * `crypto.sign` signer (KeyObject) per algorithm, and (c) node-oidc-provider's client_credentials
 * grant (installed with `npm ci` in bench/peers/), for `POST /auth` and `POST /token`. Ceiling
 * rows, for context and without targets: (d) a bare `Deno.serve` signing with our backend
 * against (b) (the runtime's own gap to Node), and (b) against (c) (the most a ratio to (c) can
 * be). Also the password-hashing concurrency (1 and 2) under a login flood. Prints req/s, p50,
 * p99 and each ratio ours/reference, memory (VmRSS/VmHWM) and start-up times, and which targets
 * pass. Loopback only; every run is bounded.
 *
 *     deno task bench [--seconds 3] [--rounds 5] [--no-micro] [--no-http] [--only jwks,rs256,peer,es256-eddsa,hashing,startup]
 *                     [--json FILE] [--strict]
 * @module
 */
import { parseArgs } from "node:util";
import {
  capture,
  choosePinning,
  findWrk,
  firstOk,
  freePort,
  type LoadGenerator,
  type LoadResult,
  median,
  type Memory,
  type Pinning,
  type Proc,
  runWrk,
  spawnLogged,
  summarize,
  type Summary,
  type WrkOptions,
} from "./harness.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CONFIG = `${ROOT}deno.json`;
const MAIN = `${ROOT}main.ts`;
const REF_STATIC = `${ROOT}bench/ref_static.ts`;
const REF_NODE = `${ROOT}bench/ref_node_sign.mjs`;
const REF_DENO = `${ROOT}bench/ref_deno_sign.ts`;
const PEERS = `${ROOT}bench/peers/`;
/** Basic credentials of the peer's one client (bench only). */
const PEER_AUTH = `Basic ${btoa("bench:bench-secret")}`;

/** Connections per scenario: many for the cheap GET, the 16 the issue names for `/auth`. */
const JWKS_CONNECTIONS = 64;
const AUTH_CONNECTIONS = 16;
/**
 * Connections of the JWKS probe while logins saturate `/auth`: it measures latency, and with a
 * closed loop of N connections the mean latency is N / throughput before any stall, so 64 would
 * put ~3 ms of pure queueing under the 10 ms p99 target. Idle and loaded probes use the same N.
 */
const PROBE_CONNECTIONS = 16;

interface Options {
  seconds: number;
  rounds: number;
  micro: boolean;
  http: boolean;
  json: string | null;
  strict: boolean;
  /** Scenarios to run (`--only jwks,rs256,...`); null runs all. */
  only: ReadonlySet<string> | null;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "3" },
      rounds: { type: "string", default: "5" },
      "no-micro": { type: "boolean", default: false },
      "no-http": { type: "boolean", default: false },
      json: { type: "string" },
      strict: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  if (!(seconds >= 1 && seconds <= 30) || !(rounds >= 1 && rounds <= 9)) {
    throw new Error("--seconds must be 1..30 and --rounds 1..9");
  }
  const unknown = (values.only ?? "").split(",").filter((name) =>
    name !== "" && !(SCENARIOS as readonly string[]).includes(name)
  );
  if (unknown.length > 0) throw new Error(`--only takes ${SCENARIOS.join(", ")}; not ${unknown.join(", ")}`);
  return {
    seconds,
    rounds,
    micro: !values["no-micro"],
    http: !values["no-http"],
    json: values.json ?? null,
    strict: values.strict,
    only: values.only === undefined ? null : new Set(values.only.split(",")),
  };
}

const say = (line: string) => console.log(`· ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The permission flags of the `cli` task, which `start` runs (`deno task cli serve`): the server
 * runs exactly as users start it.
 */
function startFlags(): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(CONFIG)).tasks;
  const start: string = tasks.start.startsWith("deno task cli") ? tasks.cli : tasks.start;
  const words = start.trim().split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"));
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Everything the run measured, also written as JSON with `--json`. */
/** One scenario measured against a reference, with its target as a ratio (and a p99 bound). */
interface Pair {
  scenario: string;
  reference: string;
  /** ours/reference req/s must reach this; null for a ceiling row, measured for context only. */
  atLeast: number | null;
  /** Our p99 must stay at or below this, ms. */
  p99AtMost?: number;
  measured: { ours: Summary; reference: Summary } | { skipped: string };
}

interface Results {
  context: Record<string, string | number>;
  /** Every scenario against its reference, in the order they ran. */
  pairs: Pair[];
  saturated?: { idle: Summary; jwks: Summary; auth: Summary };
  /** Password mode under a login flood, by hashing concurrency. */
  hashing?: Record<string, { idle: Summary; jwks: Summary; auth: Summary }>;
  signingBackend?: string;
  memory?: { idleKb: number; peakKb: number; perServer: Record<string, Memory | null> };
  startup?: { existingMs: number[]; freshMs: number[] };
  logBytes?: Record<string, number>;
}

class Bench {
  readonly procs = new Set<Proc>();
  readonly memory: Record<string, Memory | null> = {};
  readonly logBytes: Record<string, number> = {};
  #flags = startFlags();
  #secret = crypto.randomUUID() + crypto.randomUUID();

  constructor(
    readonly options: Options,
    readonly wrk: LoadGenerator,
    readonly pin: Pinning,
    readonly dir: string,
  ) {}

  /**
   * Starts the real program: `deno run <start flags> main.ts serve --port P --db FILE ...args`,
   * pinned to the server core unless `pinned` is false, and by default waits until it listens.
   */
  async server(
    name: string,
    db: string,
    args: string[],
    options: { port?: number; wait?: boolean; pinned?: boolean; env?: Record<string, string> } = {},
  ): Promise<Proc> {
    const command = [Deno.execPath(), "run", "--config", CONFIG, ...this.#flags, MAIN, "serve"];
    const proc = await spawnLogged([...command, "--port", String(options.port ?? 0), "--db", db, ...args], {
      pin: options.pinned === false ? [] : this.pin.server,
      cwd: this.dir,
      env: { ...baseEnv(), NOT_MY_KEY: this.#secret, ...options.env },
      logFile: `${this.dir}/${name}.log`,
      waitListening: options.wait ?? true,
    });
    this.procs.add(proc);
    return proc;
  }

  /** Runs a `jwks-server` command (not `serve`) with the server's flags and secret; its stdout. */
  async cli(args: string[]): Promise<string> {
    const command = new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", CONFIG, ...this.#flags, MAIN, ...args],
      cwd: this.dir,
      env: { ...baseEnv(), NOT_MY_KEY: this.#secret },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await command.output();
    const decoder = new TextDecoder();
    if (code !== 0) throw new Error(`jwks-server ${args[0]} failed: ${decoder.decode(stderr)}`);
    return decoder.decode(stdout);
  }

  async reference(name: string, script: string, args: string[], flags: string[] = []): Promise<Proc> {
    const proc = await spawnLogged(
      [Deno.execPath(), "run", "--no-config", "--allow-net", "--allow-read", ...flags, script, ...args],
      { pin: this.pin.server, cwd: this.dir, env: baseEnv(), logFile: `${this.dir}/${name}.log` },
    );
    this.procs.add(proc);
    return proc;
  }

  /** Starts a Node.js reference or peer, pinned like our server. */
  async node(name: string, script: string, args: string[], cwd = this.dir): Promise<Proc> {
    const proc = await spawnLogged(["node", script, ...args], {
      pin: this.pin.server,
      cwd,
      env: baseEnv(),
      logFile: `${this.dir}/${name}.log`,
    });
    this.procs.add(proc);
    return proc;
  }

  async stop(name: string, proc: Proc): Promise<void> {
    this.memory[name] = proc.memory();
    await proc.stop();
    this.procs.delete(proc);
    try {
      this.logBytes[name] = Deno.statSync(proc.logFile).size;
      Deno.removeSync(proc.logFile);
    } catch {
      // no log
    }
  }

  load(options: Omit<WrkOptions, "seconds" | "pin"> & { seconds?: number }): Promise<LoadResult> {
    return runWrk(this.wrk, { seconds: this.options.seconds, pin: this.pin.load, ...options });
  }

  /** Warms both up, then alternates `rounds` runs of each (reference first in even rounds). */
  async pair(
    ours: Omit<WrkOptions, "seconds" | "pin">,
    reference: Omit<WrkOptions, "seconds" | "pin">,
  ): Promise<{ ours: Summary; reference: Summary }> {
    await this.load({ ...reference, seconds: 1 });
    await this.load({ ...ours, seconds: 1 });
    const a: LoadResult[] = [];
    const b: LoadResult[] = [];
    for (let round = 0; round < this.options.rounds; round++) {
      if (round % 2 === 0) {
        b.push(await this.load(reference));
        a.push(await this.load(ours));
      } else {
        a.push(await this.load(ours));
        b.push(await this.load(reference));
      }
    }
    return { ours: summarize(a), reference: summarize(b) };
  }

  async repeat(options: Omit<WrkOptions, "seconds" | "pin">): Promise<Summary> {
    await this.load({ ...options, seconds: 1 });
    const runs: LoadResult[] = [];
    for (let round = 0; round < this.options.rounds; round++) runs.push(await this.load(options));
    return summarize(runs);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.procs].map((proc) => proc.stop(2000)));
    this.procs.clear();
  }
}

async function tokenAlg(url: string, init: RequestInit): Promise<string> {
  const response = await fetch(url, { method: "POST", ...init });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
  const answer = JSON.parse(text);
  const token: string = answer.token ?? answer.access_token;
  return JSON.parse(new TextDecoder().decode(Uint8Array.fromBase64(token.split(".")[0]!, { alphabet: "base64url" })))
    .alg;
}

const OPEN_BODY = JSON.stringify({ username: "alice" });
const JSON_TYPE = "application/json";

/** The `signing_backend` start-log line of a server, as "openssl (OpenSSL 3…; RS256, PS256, ES256)". */
function signingBackendOf(logFile: string): string {
  const line = Deno.readTextFileSync(logFile).split("\n").find((l) => l.includes('"msg":"signing_backend"'));
  if (line === undefined) return "unknown";
  const { backend, library, algs, fallback } = JSON.parse(line);
  return `${backend} (${library}; ${algs.length > 0 ? algs.join(", ") : "all through WebCrypto"}${
    fallback ? `; ${fallback}` : ""
  })`;
}

/**
 * Starts peer (c) from bench/peers/, running `npm ci` there first when its packages are not
 * installed. Returns why it could not start instead of failing the whole run.
 */
async function startPeer(bench: Bench): Promise<Proc | string> {
  try {
    Deno.statSync(`${PEERS}node_modules/oidc-provider/package.json`);
  } catch {
    say("installing peer (c): npm ci in bench/peers/");
    const { code, stderr } = await capture("sh", ["-c", 'cd "$1" && npm ci --no-audit --no-fund', "sh", PEERS]);
    if (code !== 0) return `npm ci failed: ${stderr.trim().split("\n").pop()}`;
  }
  try {
    return await bench.node("peer-c", `${PEERS}oidc_provider.mjs`, [], PEERS);
  } catch (error) {
    return `node-oidc-provider did not start: ${(error as Error).message.split("\n")[0]}`;
  }
}

/**
 * Reference (d), a bare `Deno.serve` signing with our backend, against the running reference
 * (b) of the same algorithm: how close this runtime itself comes to Node, for context.
 */
async function ceilingOfDeno(
  bench: Bench,
  alg: "RS256" | "ES256" | "EdDSA",
  nodeRef: Proc,
  post: { method: "POST"; body: string; contentType: string },
): Promise<Pair> {
  const ref = await bench.reference(`reference-d-${alg}`, REF_DENO, [alg], ["--allow-ffi", "--allow-sys"]);
  say(`reference (d) bare Deno.serve + our signing backend ${alg} vs reference (b): the runtime's own ceiling`);
  const pair: Pair = {
    scenario: `(d) bare Deno.serve + our signing backend ${alg}, ${AUTH_CONNECTIONS} conns`,
    reference: `(b) bare Node http + crypto.sign ${alg}`,
    atLeast: null,
    measured: await bench.pair(
      { url: `${ref.url}/`, connections: AUTH_CONNECTIONS, serverPid: ref.pid, ...post },
      { url: `${nodeRef.url}/`, connections: AUTH_CONNECTIONS, serverPid: nodeRef.pid, ...post },
    ),
  };
  await bench.stop(`reference-d-${alg}`, ref);
  return pair;
}

/** The scenarios `--only` can name, in the order they run. */
const SCENARIOS = ["jwks", "rs256", "peer", "es256-eddsa", "hashing", "startup"] as const;

async function runHttp(bench: Bench, results: Results): Promise<void> {
  const { dir } = bench;
  const want = (name: (typeof SCENARIOS)[number]) => bench.options.only === null || bench.options.only.has(name);

  // Open mode, RS256: JWKS against (a); /auth and /token against (b) and (c). The /token client
  // is a registered confidential one (client_secret_basic), as a production client would be.
  const client = JSON.parse(
    await bench.cli([
      "clients",
      "add",
      "bench",
      "--grant",
      "client_credentials",
      "--scope",
      "api",
      "--json",
      "--db",
      `${dir}/open.db`,
    ]),
  );
  const tokenPost = {
    method: "POST" as const,
    body: "grant_type=client_credentials&scope=api",
    contentType: "application/x-www-form-urlencoded",
    authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}`,
  };
  say("starting our server (open mode, RS256, fresh database)");
  const open = await bench.server("open-rs256", `${dir}/open.db`, ["--auth", "open", "--rate-limit", "off"]);
  const jwksUrl = `${open.url}/.well-known/jwks.json`;
  const body = new Uint8Array(await (await fetch(jwksUrl)).arrayBuffer());
  await sleep(1000);
  const idle = open.memory();
  Deno.writeFileSync(`${dir}/jwks.json`, body);
  if (want("jwks")) {
    const refStatic = await bench.reference("reference-a", REF_STATIC, [`${dir}/jwks.json`]);
    const refBody = new Uint8Array(await (await fetch(`${refStatic.url}/`)).arrayBuffer());
    if (refBody.byteLength !== body.byteLength) throw new Error("reference (a) does not serve our JWKS body");
    say(`GET /.well-known/jwks.json (${body.byteLength} bytes) vs reference (a), ${JWKS_CONNECTIONS} connections`);
    results.pairs.push({
      scenario: `GET /.well-known/jwks.json, ${JWKS_CONNECTIONS} conns`,
      reference: `(a) bare Deno.serve, same ${body.byteLength}-byte body`,
      atLeast: 0.9,
      p99AtMost: 5,
      measured: await bench.pair(
        { url: jwksUrl, connections: JWKS_CONNECTIONS, serverPid: open.pid },
        { url: `${refStatic.url}/`, connections: JWKS_CONNECTIONS, serverPid: refStatic.pid },
      ),
    });
    await bench.stop("reference-a", refStatic);
  }

  const post = { method: "POST" as const, body: OPEN_BODY, contentType: JSON_TYPE };
  const init = { body: OPEN_BODY, headers: { "content-type": JSON_TYPE } };
  if (await tokenAlg(`${open.url}/auth`, init) !== "RS256") throw new Error("our server did not sign RS256");
  const tokenInit = {
    body: tokenPost.body,
    headers: { "content-type": tokenPost.contentType, authorization: tokenPost.authorization },
  };
  if (await tokenAlg(`${open.url}/token`, tokenInit) !== "RS256") throw new Error("our /token did not sign RS256");
  results.signingBackend = signingBackendOf(open.logFile);
  say(`signing backend: ${results.signingBackend}`);
  const ours = [
    { scenario: `POST /auth open RS256, ${AUTH_CONNECTIONS} conns`, load: { url: `${open.url}/auth`, ...post } },
    {
      scenario: `POST /token client_credentials RS256, ${AUTH_CONNECTIONS} conns`,
      load: { url: `${open.url}/token`, ...tokenPost },
    },
  ];
  if (want("rs256")) {
    const refRs = await bench.node("reference-b-rs256", REF_NODE, ["RS256"]);
    for (const { scenario, load } of ours) {
      say(`${scenario} vs reference (b) Node http + crypto.sign RS256`);
      results.pairs.push({
        scenario,
        reference: "(b) bare Node http + crypto.sign RS256",
        atLeast: 0.8,
        measured: await bench.pair(
          { ...load, connections: AUTH_CONNECTIONS, serverPid: open.pid },
          { url: `${refRs.url}/`, connections: AUTH_CONNECTIONS, serverPid: refRs.pid, ...post },
        ),
      });
    }
    results.pairs.push(await ceilingOfDeno(bench, "RS256", refRs, post));
    await bench.stop("reference-b-rs256", refRs);
  }
  if (want("peer")) {
    const peer = await startPeer(bench);
    if (typeof peer === "string") say(`peer (c) skipped: ${peer}`);
    for (const { scenario, load } of ours) {
      if (typeof peer !== "string") say(`${scenario} vs peer (c) node-oidc-provider client_credentials`);
      results.pairs.push({
        scenario,
        reference: "(c) node-oidc-provider client_credentials (RS256 JWT)",
        atLeast: 2,
        measured: typeof peer === "string" ? { skipped: peer } : await bench.pair(
          { ...load, connections: AUTH_CONNECTIONS, serverPid: open.pid },
          {
            url: `${peer.url}/token`,
            connections: AUTH_CONNECTIONS,
            serverPid: peer.pid,
            ...tokenPost,
            authorization: PEER_AUTH,
          },
        ),
      });
    }
    if (typeof peer !== "string") {
      // What a ≥ 2 × (c) target asks of any server: the bare Node signer against the same peer.
      const refRs = await bench.node("reference-b-rs256-vs-c", REF_NODE, ["RS256"]);
      say("reference (b) Node http + crypto.sign RS256 vs peer (c): the ceiling of a ratio to (c)");
      results.pairs.push({
        scenario: `(b) bare Node http + crypto.sign RS256, ${AUTH_CONNECTIONS} conns`,
        reference: "(c) node-oidc-provider client_credentials (RS256 JWT)",
        atLeast: null,
        measured: await bench.pair(
          { url: `${refRs.url}/`, connections: AUTH_CONNECTIONS, serverPid: refRs.pid, ...post },
          {
            url: `${peer.url}/token`,
            connections: AUTH_CONNECTIONS,
            serverPid: peer.pid,
            ...tokenPost,
            authorization: PEER_AUTH,
          },
        ),
      });
      await bench.stop("reference-b-rs256-vs-c", refRs);
      await bench.stop("peer-c", peer);
    }
  }
  await bench.stop("open-rs256", open);

  if (want("es256-eddsa")) {
    for (const alg of ["ES256", "EdDSA"] as const) {
      say(`starting our server (open mode, ${alg}, fresh database)`);
      const server = await bench.server(`open-${alg}`, `${dir}/${alg}.db`, [
        "--auth",
        "open",
        "--alg",
        alg,
        "--rate-limit",
        "off",
      ]);
      if (await tokenAlg(`${server.url}/auth`, init) !== alg) throw new Error(`our server did not sign ${alg}`);
      const ref = await bench.node(`reference-b-${alg}`, REF_NODE, [alg]);
      say(`POST /auth (open, ${alg}) vs reference (b) Node http + crypto.sign ${alg}, ${AUTH_CONNECTIONS} connections`);
      results.pairs.push({
        scenario: `POST /auth open ${alg}, ${AUTH_CONNECTIONS} conns`,
        reference: `(b) bare Node http + crypto.sign ${alg}`,
        atLeast: 0.8,
        measured: await bench.pair(
          { url: `${server.url}/auth`, connections: AUTH_CONNECTIONS, serverPid: server.pid, ...post },
          { url: `${ref.url}/`, connections: AUTH_CONNECTIONS, serverPid: ref.pid, ...post },
        ),
      });
      await bench.stop(`open-${alg}`, server);
      results.pairs.push(await ceilingOfDeno(bench, alg, ref, post));
      await bench.stop(`reference-b-${alg}`, ref);
    }
  }

  // Password mode: JWKS idle, then JWKS while /auth is saturated with real Argon2id logins, for
  // each hashing concurrency: the default on this machine (cores - 1) and 2. The server is not
  // pinned here: the question is how many cores hashing may take, so it must be able to take them.
  if (want("hashing")) {
    results.hashing = {};
    const concurrencies = [...new Set([Math.max(1, navigator.hardwareConcurrency - 1), 2])];
    for (const concurrency of concurrencies) {
      const password = crypto.randomUUID();
      say(`starting our server (password mode, seeded user, rate limit off, HASH_CONCURRENCY=${concurrency})`);
      const pw = await bench.server(`password-${concurrency}`, `${dir}/password-${concurrency}.db`, [
        "--auth",
        "password",
        "--seed-user",
        `bench:${password}`,
        "--rate-limit",
        "off",
      ], { env: { HASH_CONCURRENCY: String(concurrency) }, pinned: false });
      const login = JSON.stringify({ username: "bench", password });
      await tokenAlg(`${pw.url}/auth`, { body: login, headers: { "content-type": JSON_TYPE } });
      const pwJwks = { url: `${pw.url}/.well-known/jwks.json`, connections: PROBE_CONNECTIONS };
      say(`GET /.well-known/jwks.json idle (password mode), ${PROBE_CONNECTIONS} connections`);
      const idleJwks = await bench.repeat({ ...pwJwks, serverPid: pw.pid });
      say(`GET /.well-known/jwks.json while POST /auth (password, ${AUTH_CONNECTIONS} connections) is saturated`);
      const auth = { url: `${pw.url}/auth`, connections: AUTH_CONNECTIONS, method: "POST" as const, body: login };
      await bench.load({ ...auth, contentType: JSON_TYPE, seconds: 1 });
      const underLoad: LoadResult[] = [];
      const logins: LoadResult[] = [];
      for (let round = 0; round < bench.options.rounds; round++) {
        const saturating = bench.load({ ...auth, contentType: JSON_TYPE, seconds: bench.options.seconds + 2 });
        await sleep(1000);
        underLoad.push(await bench.load(pwJwks));
        logins.push(await saturating);
      }
      const measured = { idle: idleJwks, jwks: summarize(underLoad), auth: summarize(logins) };
      results.hashing[String(concurrency)] = measured;
      if (concurrency === concurrencies[0]) results.saturated = measured;
      await bench.stop(`password-${concurrency}`, pw);
    }
  }
  if (want("startup")) {
    // Start-up: spawn to first 200 on /healthz, with the existing open-mode database and fresh ones.
    say("start-up to first 200: existing database and fresh databases");
    const existingMs: number[] = [];
    const freshMs: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [kind, db] of [["existing", `${dir}/open.db`], ["fresh", `${dir}/fresh-${round}.db`]] as const) {
        const port = freePort();
        const started = performance.now();
        // No load generator runs now, so the server gets the machine, as it does when users start it.
        const proc = await bench.server(`startup-${kind}-${round}`, db, [], { port, wait: false, pinned: false });
        const ms = await firstOk(`http://127.0.0.1:${port}/healthz`, started);
        await bench.stop(`startup-${kind}-${round}`, proc);
        (kind === "existing" ? existingMs : freshMs).push(ms);
      }
    }
    results.startup = { existingMs, freshMs };
  }

  const peakKb = Math.max(...Object.values(bench.memory).map((m) => m?.hwmKb ?? 0));
  results.memory = { idleKb: idle?.rssKb ?? NaN, peakKb, perServer: bench.memory };
  results.logBytes = bench.logBytes;
}

async function runMicro(): Promise<number> {
  const files = [...Deno.readDirSync(`${ROOT}bench`)].map((entry) => entry.name).filter((name) =>
    name.endsWith("_bench.ts")
  ).sort();
  say(`micro benchmarks: deno bench ${files.join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "--config", CONFIG, "--allow-all", ...files.map((name) => `${ROOT}bench/${name}`)],
    cwd: ROOT,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) say(`deno bench exited with ${code}`);
  return code;
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}

function cpuModel(): string {
  try {
    const line = Deno.readTextFileSync("/proc/cpuinfo").split("\n").find((l) => l.startsWith("model name"));
    return line?.split(":")[1]?.trim() ?? "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}

const rate = (n: number) => Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
const ms = (n: number) => !Number.isFinite(n) ? "n/a" : n < 10 ? n.toFixed(2) : n.toFixed(1);
const mb = (kb: number) => Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MB` : "n/a";
const ratio = (n: number) => Number.isFinite(n) ? n.toFixed(2) : "n/a";

interface Check {
  readonly name: string;
  readonly pass: boolean;
}

function verdict(pass: boolean): string {
  return pass ? "pass" : "**MISS**";
}

/** Renders the results as Markdown tables; returns them with the targets missed. */
function render(results: Results): { text: string; misses: string[] } {
  const checks: Check[] = [];
  const check = (name: string, pass: boolean) => (checks.push({ name, pass }), verdict(pass));
  const errors = (s: Summary) => s.errors > 0 ? ` (${s.errors} errors)` : "";
  const lines: string[] = [];
  lines.push(
    "| scenario | ours req/s | p50 ms | p99 ms | CPU µs/req | reference | ref req/s | ref p50 | ref p99 | ref CPU µs/req | ours/ref (req/s) | ours/ref (CPU) | target | result |",
    "| --- | --: | --: | --: | --: | --- | --: | --: | --: | --: | --: | --: | --- | --- |",
  );
  const cpu = (n: number) => Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "";
  const row = (
    name: string,
    ours: Summary,
    refName: string,
    ref: Summary,
    [r, byCpu]: [number, number],
    target: string,
    v: string,
  ) =>
    lines.push(
      `| ${name}${errors(ours)} | ${rate(ours.rps)} | ${ms(ours.p50)} | ${ms(ours.p99)} | ${
        cpu(ours.cpuUs)
      } | ${refName}${errors(ref)} | ${rate(ref.rps)} | ${ms(ref.p50)} | ${ms(ref.p99)} | ${cpu(ref.cpuUs)} | ${
        ratio(r)
      } | ${Number.isFinite(byCpu) ? ratio(byCpu) : ""} | ${target} | ${v} |`,
    );
  const ratios = (ours: Summary, ref: Summary): [number, number] => [ours.rps / ref.rps, ref.cpuUs / ours.cpuUs];
  const { pairs, hashing, memory, startup } = results;
  for (const pair of pairs) {
    const bound = pair.p99AtMost === undefined ? "" : `, p99 ≤ ${pair.p99AtMost} ms`;
    const target = pair.atLeast === null ? "(ceiling, no target)" : `≥ ${pair.atLeast.toFixed(2)}${bound}`;
    const name = `${pair.scenario.split(",")[0]} ${target} × ${pair.reference.split(" ")[0]}`;
    if ("skipped" in pair.measured) {
      lines.push(
        `| ${pair.scenario} | | | | | ${pair.reference} skipped: ${pair.measured.skipped} | | | | | | | ${target} | n/a |`,
      );
      continue;
    }
    const { ours, reference } = pair.measured;
    const r = ratios(ours, reference);
    if (pair.atLeast === null) {
      row(pair.scenario, ours, pair.reference, reference, r, target, "context");
      continue;
    }
    const pass = r[0] >= pair.atLeast && ours.p99 <= (pair.p99AtMost ?? Infinity) && ours.errors === 0;
    row(pair.scenario, ours, pair.reference, reference, r, target, check(name, pass));
  }
  for (const [concurrency, saturated] of Object.entries(hashing ?? {})) {
    const r = saturated.jwks.rps / saturated.idle.rps;
    const pass = r >= 0.5 && saturated.jwks.p99 <= 10 && saturated.jwks.errors === 0;
    row(
      `GET /.well-known/jwks.json, ${PROBE_CONNECTIONS} conns, while POST /auth (password) is saturated, hashing concurrency ${concurrency}`,
      saturated.jwks,
      "same server's JWKS idle",
      saturated.idle,
      [r, NaN],
      "≥ 0.5 and p99 ≤ 10 ms",
      check(`JWKS under saturated password /auth (concurrency ${concurrency}): ≥ 0.5 × idle and p99 ≤ 10 ms`, pass),
    );
    lines.push(
      `| POST /auth password (Argon2id), ${AUTH_CONNECTIONS} conns, during the row above, concurrency ${concurrency}${
        errors(saturated.auth)
      } | ${rate(saturated.auth.rps)} | ${ms(saturated.auth.p50)} | ${
        ms(saturated.auth.p99)
      } | | (context: logins/s) | | | | | | | | |`,
    );
  }
  if (memory || startup) {
    lines.push("", "| measure | value | target | result |", "| --- | --: | --- | --- |");
  }
  if (memory) {
    lines.push(
      `| RSS idle (VmRSS, open mode, after start) | ${mb(memory.idleKb)} | ≤ 80 MB | ${
        check("RSS idle ≤ 80 MB", memory.idleKb <= 80 * 1024)
      } |`,
      `| RSS peak (VmHWM, highest of our servers over the run) | ${mb(memory.peakKb)} | ≤ 250 MB | ${
        check("RSS peak ≤ 250 MB", memory.peakKb <= 250 * 1024)
      } |`,
    );
  }
  if (startup) {
    const existing = median(startup.existingMs);
    const fresh = median(startup.freshMs);
    const runs = (values: number[]) => values.map((v) => Math.round(v)).join(", ");
    lines.push(
      `| first 200, existing DB, unpinned (median of ${runs(startup.existingMs)} ms) | ${
        Math.round(existing)
      } ms | ≤ 400 ms | ${check("first 200 with an existing DB ≤ 400 ms", existing <= 400)} |`,
      `| first 200, fresh DB, unpinned (median of ${runs(startup.freshMs)} ms) | ${
        Math.round(fresh)
      } ms | ≤ 1000 ms | ${check("first 200 with a fresh DB ≤ 1 s", fresh <= 1000)} |`,
    );
  }
  return { text: lines.join("\n"), misses: checks.filter((c) => !c.pass).map((c) => c.name) };
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  const results: Results = {
    pairs: [],
    context: {
      date: new Date().toISOString(),
      cpu: `${cpuModel()}, ${navigator.hardwareConcurrency} cores`,
      deno: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
      loadBefore: loadAverage(),
      node: (await capture("node", ["--version"]).catch(() => ({ stdout: "missing" }))).stdout.trim(),
      seconds: options.seconds,
      rounds: options.rounds,
    },
  };
  let code = 0;
  if (options.micro) code = await runMicro();
  if (!options.http) return code;

  const wrk = await findWrk(say);
  say(`load generator: ${wrk.version} (${wrk.how}: ${wrk.path})`);
  const pin = await choosePinning();
  say(`pinning: ${pin.description}`);
  results.context.loadGenerator = `${wrk.version}, -t1, ${wrk.how}`;
  results.context.pinning = pin.description;
  const dir = await Deno.makeTempDir({ prefix: "jwks-bench-" });
  const bench = new Bench(options, wrk, pin, dir);
  const cleanup = async () => {
    await bench.closeAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const onSignal = () => void cleanup().finally(() => Deno.exit(130));
  const watchdog = setTimeout(() => {
    console.error("bench: the run exceeded 15 minutes; stopping");
    onSignal();
  }, 15 * 60_000);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await runHttp(bench, results);
  } finally {
    clearTimeout(watchdog);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await cleanup();
  }
  results.context.loadAfter = loadAverage();

  const { text, misses } = render(results);
  const c = results.context;
  console.log(`
## jwks-server benchmark, ${c.date}

${c.cpu}; Deno ${c.deno}; ${c.loadGenerator}; ${c.pinning}.
Signing backend of our servers: ${results.signingBackend ?? "unknown"}; Node.js ${c.node} for (b) and (c).
Each figure is the median of ${c.rounds} runs of ${c.seconds} s (after a 1 s warm-up), ours and the
reference alternating; load average ${c.loadBefore} before, ${c.loadAfter} after.
Our servers ran with default logging (info) to a file: ${
    Object.entries(results.logBytes ?? {}).filter(([name]) => !name.startsWith("startup") && !name.startsWith("ref"))
      .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KiB`).join(", ")
  }.

${text}
`);
  console.log(misses.length === 0 ? "All targets met." : `Targets missed: ${misses.join("; ")}.`);
  if (options.json !== null) {
    Deno.writeTextFileSync(options.json, JSON.stringify(results, null, 2) + "\n");
    say(`results written to ${options.json}`);
  }
  return options.strict && misses.length > 0 ? 1 : code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
