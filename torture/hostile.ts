/**
 * Hostile clients against the real server, one attack at a time, each bounded in time and in
 * connections: idle sockets past the descriptor limit (the server runs under `ulimit -n 512`),
 * slowloris (request heads trickled a byte a second), a hashing flood from 16 client IPs (each at
 * the rate limit, every login a fresh username so no backoff spares the hashing) and a lockout
 * attempt on alice. Throughout, a keep-alive JWKS client measures latency, a fresh-connection
 * client counts what new clients get, alice logs in twice a second from her own IP, and the
 * server's RSS is sampled. Promises: the server never goes down, JWKS p99 ≤ 50 ms during every
 * attack, ≥ 95% of alice's logins succeed during the flood and the lockout, RSS ≤ 250 MiB.
 *
 * Run alone: `HOSTILE_SECONDS=10 deno task torture hostile`. Loopback only; stopped by PID.
 * @module
 */
import { type ServerProcess, spawnServer, waitListening } from "../tests/support/server_process.ts";
import { idleSockets, slowloris } from "./hostile_sockets.ts";
import { call, failureLog, rssKiB, sleep } from "./harness.ts";
import { createRng, type Rng } from "./prng.ts";

/** Options of {@linkcode runHostile}. */
export interface HostileOptions {
  /** Seconds of each attack. */
  seconds: number;
  seed: number;
  log?: (line: string) => void;
}

/** What one phase measured. */
export interface PhaseReport {
  readonly name: string;
  readonly jwksRequests: number;
  readonly jwksFailed: number;
  readonly jwksP50Ms: number;
  readonly jwksP99Ms: number;
  /** JWKS requests on a new connection each: answered 200 / sent. */
  readonly freshOk: number;
  readonly freshSent: number;
  /** Alice's logins: 200 / sent (0 / 0 when the phase has none). */
  readonly legitOk: number;
  readonly legitSent: number;
  /** What the attack did (connections opened, requests sent). */
  readonly attack: string;
  readonly rssPeakKiB: number;
}

/** What the hostile run measured. */
export interface HostileReport {
  readonly seconds: number;
  readonly descriptorLimit: number;
  readonly alive: boolean;
  readonly phases: readonly PhaseReport[];
  readonly rssPeakKiB: number;
  readonly failures: readonly string[];
}

const ALICE = { username: "alice", password: "alice's real password, 2026" };
const ALICE_IP = "192.0.2.10";
const DESCRIPTORS = 512;
const P99_LIMIT_MS = 50;
const LEGIT_SHARE = 0.95;
const RSS_LIMIT_KIB = 250 * 1024;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const login = (url: string, body: unknown, ip: string, timeoutMs = 15_000) =>
  call(`${url}/auth`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify(body),
  }, timeoutMs);

/** Logins from 16 IPs, each at `perSecond`, at most 40 outstanding per IP; returns how many were sent. */
async function flood(url: string, until: number, rng: Rng, body: (rng: Rng) => unknown, perSecond = 10) {
  let sent = 0;
  await Promise.all(Array.from({ length: 16 }, async (_, i) => {
    const ip = `203.0.113.${i + 1}`;
    const mine = rng.fork(ip);
    const outstanding = new Set<Promise<unknown>>();
    while (Date.now() < until) {
      if (outstanding.size < 40) {
        const request = login(url, body(mine), ip).finally(() => outstanding.delete(request));
        outstanding.add(request);
        sent++;
      }
      await sleep(1000 / perSecond);
    }
    await Promise.allSettled([...outstanding]);
  }));
  return `${sent} logins from 16 IPs`;
}

/** Runs every phase against one fresh server. */
export async function runHostile(options: HostileOptions): Promise<HostileReport> {
  const log = options.log ?? (() => {});
  const rng = createRng(options.seed);
  const dir = await Deno.makeTempDir({ prefix: "jwks-hostile-" });
  const { failures, fail } = failureLog(log);
  const phases: PhaseReport[] = [];
  let server: ServerProcess | null = null;
  let alive = false;
  try {
    await Deno.writeTextFile(`${dir}/users`, `${ALICE.username}:${ALICE.password}\n`, { mode: 0o600 });
    server = spawnServer({
      cwd: dir,
      args: ["--auth", "password", "--seed-users-file", "users", "--trust-proxy", "loopback"],
      env: { NOT_MY_KEY: "hostile torture secret, 32 bytes" },
      descriptorLimit: DESCRIPTORS,
    });
    const url = await waitListening(server);
    const port = Number(new URL(url).port);
    const pid = server.pid;
    const first = await login(url, ALICE, ALICE_IP);
    if (!first.ok || first.status !== 200) fail(`alice's first login failed: ${first.ok ? first.status : first.error}`);

    const phase = async (
      name: string,
      attack: (until: number) => Promise<string>,
      legit: boolean,
    ): Promise<PhaseReport> => {
      const until = Date.now() + options.seconds * 1000;
      const latencies: number[] = [];
      let jwksFailed = 0;
      let freshOk = 0;
      let freshSent = 0;
      let legitOk = 0;
      let legitSent = 0;
      let rssPeakKiB = 0;
      const keepAlive = Deno.createHttpClient({});
      const prober = async () => {
        while (Date.now() < until && server!.running()) {
          const started = performance.now();
          const outcome = await call(`${url}/.well-known/jwks.json`, { client: keepAlive }, 5000);
          if (outcome.ok && outcome.status === 200) latencies.push(performance.now() - started);
          else jwksFailed++;
          await sleep(10);
        }
      };
      const fresh = async () => {
        while (Date.now() < until && server!.running()) {
          const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
          freshSent++;
          const outcome = await call(`${url}/.well-known/jwks.json`, { client }, 5000);
          client.close();
          if (outcome.ok && outcome.status === 200) freshOk++;
          await sleep(100);
        }
      };
      const alice = async () => {
        while (legit && Date.now() < until && server!.running()) {
          legitSent++;
          const outcome = await login(url, ALICE, ALICE_IP, 10_000);
          if (outcome.ok && outcome.status === 200) legitOk++;
          await sleep(500);
        }
      };
      const sampler = async () => {
        while (Date.now() < until && server!.running()) {
          rssPeakKiB = Math.max(rssPeakKiB, rssKiB(pid));
          await sleep(250);
        }
      };
      const [what] = await Promise.all([attack(until), prober(), fresh(), alice(), sampler()]);
      keepAlive.close();
      latencies.sort((a, b) => a - b);
      const report: PhaseReport = {
        name,
        jwksRequests: latencies.length + jwksFailed,
        jwksFailed,
        jwksP50Ms: percentile(latencies, 0.5),
        jwksP99Ms: percentile(latencies, 0.99),
        freshOk,
        freshSent,
        legitOk,
        legitSent,
        attack: what,
        rssPeakKiB,
      };
      log(
        `hostile ${name}: jwks p99 ${report.jwksP99Ms.toFixed(1)} ms, fresh ${freshOk}/${freshSent}, ` +
          `alice ${legitOk}/${legitSent}, rss ${(rssPeakKiB / 1024).toFixed(1)} MiB; ${what}`,
      );
      // Let the attack's leftovers time out before the next phase is measured.
      await sleep(1000);
      return report;
    };

    phases.push(await phase("baseline (no attack)", () => Promise.resolve("none"), true));
    phases.push(
      await phase(
        "idle sockets past the descriptor limit",
        (until) => idleSockets(port, 3 * DESCRIPTORS, until),
        false,
      ),
    );
    phases.push(await phase("slowloris", (until) => slowloris(port, 300, until), false));
    phases.push(
      await phase(
        "16-IP hashing flood",
        (until) =>
          flood(url, until, rng.fork("flood"), (r) => ({ username: `nobody${r.int(0, 1e9)}`, password: "guess" })),
        true,
      ),
    );
    phases.push(
      await phase(
        "lockout attempt on alice",
        (until) =>
          flood(
            url,
            until,
            rng.fork("lockout"),
            (r) =>
              r.chance(0.5)
                ? { username: "alice", password: `guess${r.int(0, 1e9)}` }
                : { username: `a${r.int(0, 1e9)}`, password: "x" },
          ),
        true,
      ),
    );

    alive = server.running() && (await call(`${url}/healthz`, {}, 5000)).ok;
    if (!alive) fail(`the server went down: ${server.stderr().slice(0, 300)}`);
    for (const report of phases) {
      if (report.name.startsWith("baseline")) continue;
      if (!(report.jwksP99Ms <= P99_LIMIT_MS)) {
        fail(`${report.name}: JWKS p99 ${report.jwksP99Ms.toFixed(1)} ms > ${P99_LIMIT_MS} ms`);
      }
      if (report.jwksFailed > report.jwksRequests / 100) {
        fail(`${report.name}: ${report.jwksFailed} JWKS requests failed`);
      }
      if (report.legitSent > 0 && report.legitOk < report.legitSent * LEGIT_SHARE) {
        fail(`${report.name}: only ${report.legitOk} of ${report.legitSent} legitimate logins succeeded`);
      }
    }
    const peak = Math.max(...phases.map((report) => report.rssPeakKiB));
    if (peak > RSS_LIMIT_KIB) fail(`RSS peaked at ${(peak / 1024).toFixed(1)} MiB > 250 MiB`);
    const code = await server.stop("SIGTERM");
    if (code !== 0) fail(`the graceful stop after the attacks exited ${code}`);
  } finally {
    await server?.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
  return {
    seconds: options.seconds,
    descriptorLimit: DESCRIPTORS,
    alive,
    phases,
    rssPeakKiB: Math.max(0, ...phases.map((report) => report.rssPeakKiB)),
    failures,
  };
}

const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : "n/a");

/** The report as table rows. */
export function hostileRows(report: HostileReport): [string, string | number][] {
  const rows: [string, string | number][] = [
    ["seconds per attack; server descriptor limit", `${report.seconds} s; ulimit -n ${report.descriptorLimit}`],
    ["server alive at the end", report.alive ? "yes" : "NO"],
  ];
  for (const phase of report.phases) {
    rows.push([`${phase.name}: JWKS p50 / p99 (keep-alive)`, `${ms(phase.jwksP50Ms)} / ${ms(phase.jwksP99Ms)}`]);
    rows.push([`  JWKS failed / sent`, `${phase.jwksFailed} / ${phase.jwksRequests}`]);
    rows.push([`  new connections served`, `${phase.freshOk} / ${phase.freshSent}`]);
    if (phase.legitSent > 0) {
      rows.push([
        `  alice's logins that succeeded`,
        `${phase.legitOk} / ${phase.legitSent} (${(100 * phase.legitOk / phase.legitSent).toFixed(1)}%)`,
      ]);
    }
    rows.push([`  attack`, phase.attack]);
    rows.push([`  RSS peak`, `${(phase.rssPeakKiB / 1024).toFixed(1)} MiB`]);
  }
  rows.push(["RSS peak over the run", `${(report.rssPeakKiB / 1024).toFixed(1)} MiB`]);
  rows.push(["failures", report.failures.length]);
  return rows;
}
