/**
 * Scrape equivalence of prom-client against ours: the same events are fed to `lib/ops/metrics.ts`
 * and to `prom_metrics.ts` over the same running parts (a real test app's key set, hashing queue,
 * login log and rate limiter), both scrapes go through the strict reader of
 * `tests/support/prometheus.ts`, and every family and sample that differs is listed.
 *
 *     deno run -A bench/libraries/prom_check.ts
 * @module
 */
import { Metrics, METRICS_CONTENT_TYPE } from "../../lib/ops/metrics.ts";
import { testApp } from "../../tests/support/helpers.ts";
import { type Family, parseMetrics } from "../../tests/support/prometheus.ts";
import { promClient, VERSIONS } from "./deps.ts";
import { metricsPair, PromMetrics } from "./prom_metrics.ts";

interface Recorder {
  requestStarted(): void;
  request(route: string, method: string, status: number, seconds: number): void;
  tokenIssued(alg: string, expired: boolean): void;
  authFailed(reason: string): void;
  rateLimited(route: string): void;
  jwksServed(notModified: boolean): void;
}

/** The same mixed traffic for both, strange route names and methods included. */
function feed(m: Recorder): void {
  const requests: [string, string, number, number][] = [
    ["/.well-known/jwks.json", "GET", 200, 0.0004],
    ["/.well-known/jwks.json", "GET", 304, 0.0012],
    ["/auth", "POST", 200, 0.02],
    ["/auth", "POST", 401, 0.3],
    ["/healthz", "BREW", 405, 0.0001],
    ["unmatched", "GET", 404, 7],
    ['/a"b\\c\nd', "GET", 200, 0.001],
  ];
  for (const [route, method, status, seconds] of requests) {
    m.requestStarted();
    m.request(route, method, status, seconds);
  }
  m.requestStarted(); // one still in flight
  m.tokenIssued("RS256", false);
  m.tokenIssued("RS256", true);
  m.authFailed("invalid_credentials");
  m.rateLimited("/auth");
  m.jwksServed(false);
  m.jwksServed(true);
}

function samplesOf(family: Family): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of family.samples) {
    const labels = Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) =>
      `${k}=${JSON.stringify(v)}`
    );
    out.set(`${s.name}{${labels.join(",")}}`, s.value);
  }
  return out;
}

/** Every difference between two scrapes, as lines. */
function compare(ours: Map<string, Family>, theirs: Map<string, Family>): string[] {
  const diffs: string[] = [];
  for (const name of new Set([...ours.keys(), ...theirs.keys()])) {
    const a = ours.get(name);
    const b = theirs.get(name);
    if (a === undefined || b === undefined) {
      diffs.push(`${name}: only in ${a === undefined ? "prom-client" : "ours"}`);
      continue;
    }
    if (a.type !== b.type) diffs.push(`${name}: type ${a.type} vs ${b.type}`);
    if (a.help !== b.help) diffs.push(`${name}: help ${JSON.stringify(a.help)} vs ${JSON.stringify(b.help)}`);
    const sa = samplesOf(a);
    const sb = samplesOf(b);
    for (const key of new Set([...sa.keys(), ...sb.keys()])) {
      const va = sa.get(key);
      const vb = sb.get(key);
      if (va === undefined) diffs.push(`${key}: only in prom-client (${vb})`);
      else if (vb === undefined) diffs.push(`${key}: only in ours (${va})`);
      else if (!(Math.abs(va - vb) <= 1e-9 * Math.max(1, Math.abs(va)))) diffs.push(`${key}: ${va} vs ${vb}`);
    }
  }
  return diffs;
}

if (import.meta.main) {
  const app = await testApp({});
  try {
    const { ours, theirs, memory, sources } = metricsPair(app);
    feed(ours);
    feed(theirs);
    const oursText = ours.render();
    const theirText = await theirs.render();
    const readerVerdict = (text: string) => {
      try {
        parseMetrics(text);
        return "accepted";
      } catch (error) {
        return `rejected (${String(error).split("\n")[0]})`;
      }
    };
    // prom-client ends each family with a blank line: the format allows it, our strict test
    // reader does not; the comparison reads the text without them.
    const blank = theirText.split("\n").filter((line, i, all) => line === "" && i < all.length - 1).length;
    const parsed = parseMetrics(theirText.replace(/\n\n/g, "\n"));
    console.log(`prom-client ${VERSIONS["prom-client"]}`);
    console.log(`content type: ours ${METRICS_CONTENT_TYPE} | prom-client ${theirs.registry.contentType}`);
    console.log(`strict reader (tests/support/prometheus.ts) on prom-client's text as is: ${readerVerdict(theirText)}`);
    console.log(
      `blank lines between families: ${blank}; without them: ${readerVerdict(theirText.replace(/\n\n/g, "\n"))}`,
    );
    const diffs = compare(parseMetrics(oursText), parsed);
    console.log(`with every source watched: ${diffs.length} differences`);
    for (const line of diffs) console.log(`  - ${line}`);

    // Without sources (our unit tests' shape), ours leaves the key and queue families out.
    const bareOurs = parseMetrics(new Metrics({ clock: () => 0, memory: null }).render());
    const bareTheirs = parseMetrics(
      (await new PromMetrics({ clock: () => 0, memory: null }).render()).replace(/\n\n/g, "\n"),
    );
    const bareDiffs = compare(bareOurs, bareTheirs);
    console.log(`with no source watched: ${bareDiffs.length} differences`);
    for (const line of bareDiffs) console.log(`  - ${line}`);

    // No signing key and no next key (a store that lost them): ours leaves those samples out.
    const keyless = {
      ...sources,
      keys: { view: () => ({ ...app.keys.view(), active: null, next: null }), now: () => app.keys.now() },
    };
    const o = new Metrics({ clock: app.clock, memory });
    const t = new PromMetrics({ clock: app.clock, memory });
    o.watch(keyless);
    t.watch(keyless);
    const keylessDiffs = compare(parseMetrics(o.render()), parseMetrics((await t.render()).replace(/\n\n/g, "\n")));
    console.log(`with no active and no next key: ${keylessDiffs.length} differences`);
    for (const line of keylessDiffs) console.log(`  - ${line}`);

    // The default process metrics, for reference: do they run under Deno?
    const registry = new promClient.Registry();
    try {
      promClient.collectDefaultMetrics({ register: registry });
      const text = await registry.metrics();
      const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
      console.log(`collectDefaultMetrics() under Deno: ${names.length} families (${names.slice(0, 6).join(", ")}, …)`);
    } catch (error) {
      console.log(`collectDefaultMetrics() under Deno fails: ${error}`);
    }
  } finally {
    await app.close();
  }
}
