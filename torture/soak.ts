/**
 * Soak: the real server under mixed load for a long run (10 minutes by default), keys rotating
 * every minute, with its resident set size and open descriptors sampled every 10 s from
 * `/proc`. Passes when RSS grows at most 10% after the warm-up (mean of the first minute after
 * it against the mean of the last minute), descriptors return to their idle count once the
 * clients hang up, and no request gets a 5xx (`/readyz` 503s are counted apart).
 *
 * Run alone: `SOAK_SECONDS=120 deno task torture soak` (SEED=… to replay the mix).
 * @module
 */
import { type ServerProcess, spawnServer, waitListening } from "../tests/support/server_process.ts";
import { call, failureLog, fdCount, type Outcome, rssKiB, sleep } from "./harness.ts";
import { createRng, type Rng } from "./prng.ts";

/** Options of {@linkcode runSoak}. */
export interface SoakOptions {
  seconds: number;
  seed: number;
  /** Seconds of load before the RSS baseline is taken. Default 120 (a fifth of short runs). */
  warmupSeconds?: number;
  /** Seconds between samples. Default 10. */
  sampleEverySeconds?: number;
  /** Concurrent clients. Default 4. */
  workers?: number;
  /** Largest RSS growth after warm-up, as a fraction. Default 0.10. */
  maxGrowth?: number;
  log?: (line: string) => void;
}

/** One sample of the server process. */
export interface SoakSample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly rssKiB: number;
  readonly fds: number;
  /** Requests answered so far. */
  readonly requests: number;
}

/** What a soak run measured. */
export interface SoakReport {
  readonly seed: number;
  readonly seconds: number;
  readonly requests: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly samples: readonly SoakSample[];
  readonly idleFdsBefore: number;
  readonly idleFdsAfter: number;
  /** Mean RSS over the minute after warm-up. */
  readonly baselineRssKiB: number;
  /** Mean RSS over the last minute. */
  readonly finalRssKiB: number;
  /** /readyz answers 503 (between a key activating and its successor's publication). */
  readonly notReady: number;
  readonly maxRssKiB: number;
  /** (final − baseline) / baseline. */
  readonly growth: number;
  readonly failures: readonly string[];
}

const USER = { username: "soaker", password: "soak-password-0123456789" };

/** Runs the soak against a fresh server. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const warmup = options.warmupSeconds ?? Math.min(120, Math.floor(options.seconds / 5));
  const every = options.sampleEverySeconds ?? 10;
  const maxGrowth = options.maxGrowth ?? 0.1;
  const rng = createRng(options.seed);
  const dir = await Deno.makeTempDir({ prefix: "jwks-soak-" });
  const { failures, fail } = failureLog(log);
  const byStatus: Record<string, number> = {};
  const samples: SoakSample[] = [];
  let requests = 0;
  let notReady = 0;
  let server: ServerProcess | null = null;
  let idleFdsBefore = 0;
  let idleFdsAfter = 0;
  // A client of our own, so closing it hangs up every kept-alive connection at the end.
  const client = Deno.createHttpClient({});
  try {
    server = spawnServer({
      cwd: dir,
      args: ["--rate-limit", "off", "--rotate-every", "60s", "--seed-user", `${USER.username}:${USER.password}`],
      env: { NOT_MY_KEY: "soak master secret, 32 bytes long" },
    });
    const url = await waitListening(server);
    const pid = server.pid;
    // One login first: it starts the password-hashing worker, which the server creates lazily
    // (an event loop of its own: six descriptors, once). A leak is growth under load, not that.
    const first = await call(`${url}/auth`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(USER),
    });
    if (!first.ok || first.status !== 200) {
      fail(`the first login failed: ${first.ok ? `status ${first.status}` : first.error}`);
    }
    await sleep(1000);
    idleFdsBefore = fdCount(pid);
    const users: { username: string; password: string }[] = [USER];
    let etag = "";

    const note = (outcome: Outcome, what: string) => {
      requests++;
      if (!outcome.ok) {
        fail(`${what}: ${outcome.error}`);
        return;
      }
      byStatus[outcome.status] = (byStatus[outcome.status] ?? 0) + 1;
      // /readyz may answer 503 for the moment between a key activating and its successor's
      // publication (at most one 2 s tick); it is counted, not failed.
      if (what === "GET /readyz" && outcome.status === 503) notReady++;
      else if (outcome.status >= 500) fail(`${what}: ${outcome.status} ${outcome.text.slice(0, 200)}`);
    };
    const get = (path: string, headers: Record<string, string> = {}) => call(`${url}${path}`, { headers, client });
    const post = (path: string, body: string, type = "application/json") =>
      call(`${url}${path}`, { method: "POST", headers: { "content-type": type }, body, client });

    const started = Date.now();
    const until = started + options.seconds * 1000;
    const worker = async (wrng: Rng) => {
      while (Date.now() < until && server!.running()) {
        const roll = wrng.next();
        if (roll < 0.4) {
          const outcome = await get(
            "/.well-known/jwks.json",
            wrng.chance(0.5) && etag !== "" ? { "if-none-match": etag } : {},
          );
          note(outcome, "GET /jwks");
          if (outcome.ok && outcome.status === 200) etag = outcome.headers.get("etag") ?? "";
        } else if (roll < 0.55) {
          note(await post("/auth", JSON.stringify(wrng.pick(users))), "POST /auth");
        } else if (roll < 0.6) {
          note(await post("/auth?expired=true", JSON.stringify(USER)), "POST /auth?expired=true");
        } else if (roll < 0.65) {
          const body = JSON.stringify({ username: `nobody${wrng.int(0, 1e6)}`, password: "wrong" });
          note(await post("/auth", body), "POST /auth (wrong)");
        } else if (roll < 0.75) {
          const username = `s${wrng.int(0, 1e9)}`;
          const outcome = await post("/register", JSON.stringify({ username }));
          note(outcome, "POST /register");
          if (outcome.ok && outcome.status === 201 && users.length < 1000) {
            users.push({ username, password: JSON.parse(outcome.text).password });
          }
        } else if (roll < 0.85) {
          const path = wrng.pick(["/.well-known/openid-configuration", "/healthz", "/readyz"]);
          note(await get(path), `GET ${path}`);
        } else {
          switch (wrng.int(0, 3)) {
            case 0:
              note(await get(`/nope/${wrng.int(0, 1e6)}`), "GET 404");
              break;
            case 1:
              note(await call(`${url}/jwks`, { method: "DELETE", client }), "DELETE 405");
              break;
            case 2:
              note(await post("/register", "{not json"), "POST 400");
              break;
            default:
              note(await post("/register", "x".repeat(70_000)), "POST 413");
          }
        }
      }
    };
    const sampler = async () => {
      for (let t = 0; Date.now() < until && server!.running(); t += every) {
        const sample = { t, rssKiB: rssKiB(pid), fds: fdCount(pid), requests };
        samples.push(sample);
        log(`soak t=${t}s rss=${(sample.rssKiB / 1024).toFixed(1)} MiB fds=${sample.fds} requests=${requests}`);
        await sleep(Math.max(0, started + (t + every) * 1000 - Date.now()));
      }
    };
    await Promise.all([
      sampler(),
      ...Array.from({ length: options.workers ?? 4 }, (_, i) => worker(rng.fork(`w${i}`))),
    ]);
    if (!server.running()) fail(`the server died: ${server.stderr().slice(0, 300)}`);
    const last = { t: Math.round((Date.now() - started) / 1000), rssKiB: rssKiB(pid), fds: fdCount(pid), requests };
    samples.push(last);
    client.close();
    await sleep(1000);
    idleFdsAfter = fdCount(pid);
    if (idleFdsAfter > idleFdsBefore + 2) {
      fail(`descriptors: ${idleFdsBefore} idle before the load, ${idleFdsAfter} after`);
    }
    const code = await server.stop("SIGTERM");
    if (code !== 0) fail(`a graceful stop after the soak exited ${code}`);
    for (const line of server.lines) if (line.includes('"level":"error"')) fail(`server logged: ${line.slice(0, 300)}`);
  } finally {
    try {
      client.close();
    } catch {
      // closed already
    }
    await server?.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
  // RSS swings by tens of MiB with garbage collection and Argon2's 19 MiB buffers, so both ends
  // are averages over six samples: the minute after warm-up and the last minute.
  const afterWarmup = samples.filter((sample) => sample.t >= warmup);
  const mean = (list: readonly SoakSample[]) => list.reduce((n, sample) => n + sample.rssKiB, 0) / list.length;
  const baseline = Math.round(mean(afterWarmup.slice(0, 6)));
  const final = Math.round(mean(afterWarmup.slice(-6)));
  const growth = (final - baseline) / baseline;
  if (!(growth <= maxGrowth)) {
    fail(
      `RSS grew ${(growth * 100).toFixed(1)}% after warm-up (${baseline} KiB → ${final} KiB), limit ${
        maxGrowth * 100
      }%`,
    );
  }
  return {
    seed: options.seed,
    seconds: options.seconds,
    requests,
    byStatus,
    samples,
    idleFdsBefore,
    idleFdsAfter,
    baselineRssKiB: baseline,
    finalRssKiB: final,
    notReady,
    maxRssKiB: Math.max(...afterWarmup.map((sample) => sample.rssKiB)),
    growth,
    failures,
  };
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

/** The report as table rows. */
export function soakRows(report: SoakReport): [string, string | number][] {
  return [
    ["seconds", report.seconds],
    ["requests", report.requests],
    ...Object.entries(report.byStatus).sort().map(([status, n]): [string, number] => [`  answered ${status}`, n]),
    ["  of which /readyz 503 (not ready)", report.notReady],
    ["RSS, mean of the minute after warm-up", mib(report.baselineRssKiB)],
    ["RSS, mean of the last minute", mib(report.finalRssKiB)],
    ["RSS max after warm-up", mib(report.maxRssKiB)],
    ["RSS growth after warm-up", `${(report.growth * 100).toFixed(1)}%`],
    ["open fds idle before / after", `${report.idleFdsBefore} / ${report.idleFdsAfter}`],
    ["failures", report.failures.length],
  ];
}
