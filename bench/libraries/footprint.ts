/**
 * What each library costs to carry: the files its entry points load (walked through static
 * `import`/`require` of relative paths and package names, as `deno compile` would embed them)
 * with their bytes and any load whose target is computed at run time, and the resident memory
 * of a process doing the same small job with ours and with theirs (median of 3 fresh processes,
 * after a forced GC).
 *
 *     deno run -A bench/libraries/footprint.ts
 * @module
 */
import { dirname, join } from "node:path";
import { VERSIONS } from "./deps.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const STORE = join(ROOT, "node_modules/.deno");

/** The folder of an installed npm package (the one deno.lock resolved). */
function packageDir(name: string, version?: string): string {
  const prefix = `${name.replace("/", "+")}@`;
  const folder = [...Deno.readDirSync(STORE)].map((e) => e.name).filter((n) => n.startsWith(prefix))
    .find((n) => version === undefined || n === `${prefix}${version}`);
  if (folder === undefined) throw new Error(`${name} is not installed under node_modules/.deno`);
  return join(STORE, folder, "node_modules", name);
}

function resolveFile(base: string): string | null {
  for (const candidate of [base, `${base}.js`, `${base}.mjs`, `${base}.cjs`, join(base, "index.js")]) {
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // try the next
    }
  }
  return null;
}

/** Entry file of a package for `require(name)` / `import name`. */
function packageEntry(dir: string, subpath = "", esm = false): string | null {
  const manifest = JSON.parse(Deno.readTextFileSync(join(dir, "package.json")));
  const exp = manifest.exports?.[subpath === "" ? "." : `./${subpath}`];
  const pick = (e: unknown): string | undefined =>
    typeof e === "string" ? e : e && typeof e === "object"
      ? pick(
        (e as Record<string, unknown>)[esm ? "import" : "require"] ?? (e as Record<string, unknown>).default ??
          (e as Record<string, unknown>).node,
      )
      : undefined;
  const target = pick(exp) ?? (subpath === "" ? manifest.main ?? "index.js" : subpath);
  return resolveFile(join(dir, target));
}

const BUILTIN =
  /^(node:|fs$|path$|os$|events$|util$|stream$|worker_threads$|cluster$|http$|https$|url$|module$|v8$|perf_hooks$|process$|string_decoder$|assert$|buffer$|crypto$|zlib$|net$|tty$|async_hooks$|diagnostics_channel$)/;
const STATIC = /(?:\bfrom\s*|\bimport\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;
const DYNAMIC: readonly [string, RegExp][] = [
  ["import() of a computed path", /\bimport\((?!\s*["'])/],
  ["require() of a computed path", /(?<![\w.])require\((?!\s*["'])/],
  ["Worker / ThreadStream", /new (?:Worker|ThreadStream)\b/],
  ["reads files at run time", /readFileSync\(|readFile\(/],
];

/** Files, bytes and run-time loads reachable from `entries`. */
function closure(entries: string[]): { files: number; bytes: number; packages: Set<string>; dynamic: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const dynamic: string[] = [];
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = Deno.readTextFileSync(file);
    const pkg = file.slice(STORE.length + 1).split("/")[0]!;
    packages.add(pkg);
    for (const [what, re] of DYNAMIC) if (re.test(text)) dynamic.push(`${file.slice(STORE.length + 1)}: ${what}`);
    for (const match of text.matchAll(STATIC)) {
      const spec = match[1]!;
      if (BUILTIN.test(spec)) continue;
      let target: string | null;
      if (spec.startsWith(".")) target = resolveFile(join(dirname(file), spec));
      else {
        const parts = spec.split("/");
        const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
        const sub = parts.slice(spec.startsWith("@") ? 2 : 1).join("/");
        try {
          target = packageEntry(packageDir(name), sub, file.endsWith(".mjs") || text.includes("export "));
        } catch {
          target = null; // an optional peer that is not installed
        }
      }
      if (target !== null) queue.push(target);
    }
  }
  let bytes = 0;
  for (const file of seen) bytes += Deno.statSync(file).size;
  return { files: seen.size, bytes, packages, dynamic };
}

/** The small job each probe does, with ours or with theirs. */
const PROBES = ["baseline", "ours-edge", "hono-edge", "ours-metrics", "prom-metrics", "ours-log", "pino-log"] as const;
type Probe = typeof PROBES[number];

async function probe(name: Probe): Promise<void> {
  const keys = {
    view: () => ({
      jwks: { body: new TextEncoder().encode('{"keys":[]}'), etag: '"e"', keys: [] },
      active: null,
      expired: null,
      next: null,
      until: 0,
      changedAt: 0,
    }),
  } as never;
  const info = { remoteAddr: { hostname: "127.0.0.1" } };
  const request = () => new Request("http://127.0.0.1/.well-known/jwks.json");
  if (name === "ours-edge") {
    const { createRouter } = await import("../../lib/http/router.ts");
    const { jwksRoutes } = await import("../../lib/routes/jwks.ts");
    const handle = createRouter(jwksRoutes({ keys, maxAge: 300 }));
    for (let i = 0; i < 10_000; i++) await handle(request(), info);
  } else if (name === "hono-edge") {
    const { honoJwksApp } = await import("./hono_edge.ts");
    const app = honoJwksApp({ keys, maxAge: 300 });
    for (let i = 0; i < 10_000; i++) await app.fetch(request(), info);
  } else if (name === "ours-metrics") {
    const { Metrics } = await import("../../lib/ops/metrics.ts");
    const m = new Metrics({ clock: Date.now, memory: null });
    for (let i = 0; i < 10_000; i++) m.request(`/r${i & 7}`, "GET", 200, 0.001);
    m.render();
  } else if (name === "prom-metrics") {
    const { PromMetrics } = await import("./prom_metrics.ts");
    const m = new PromMetrics({ clock: Date.now, memory: null });
    for (let i = 0; i < 10_000; i++) m.request(`/r${i & 7}`, "GET", 200, 0.001);
    await m.render();
  } else if (name === "ours-log") {
    const { createLogger } = await import("../../lib/ops/log.ts");
    const { accessLog } = await import("../../lib/ops/access_log.ts");
    const hook = accessLog(createLogger({ clock: Date.now, write: () => {} }));
    const record = { method: "GET", path: "/", route: "/", status: 200, ms: 1, ip: "::1", requestId: "r" };
    for (let i = 0; i < 10_000; i++) hook(record);
  } else if (name === "pino-log") {
    const { pinoAccessLog, pinoLogger } = await import("./pino_log.ts");
    const hook = pinoAccessLog(pinoLogger({ destination: { write: () => {} }, clock: Date.now, redaction: "paths" }));
    const record = { method: "GET", path: "/", route: "/", status: 200, ms: 1, ip: "::1", requestId: "r" };
    for (let i = 0; i < 10_000; i++) hook(record);
  }
  (globalThis as unknown as { gc(): void }).gc();
  const usage = Deno.memoryUsage();
  console.log(JSON.stringify({ rss: usage.rss, heapUsed: usage.heapUsed }));
}

async function measure(name: Probe): Promise<{ rss: number; heapUsed: number }> {
  const runs: { rss: number; heapUsed: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", new URL(import.meta.url).pathname, "--probe", name],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    runs.push(JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!));
  }
  const mid = (key: "rss" | "heapUsed") => runs.map((r) => r[key]).sort((a, b) => a - b)[1]!;
  return { rss: mid("rss"), heapUsed: mid("heapUsed") };
}

if (import.meta.main) {
  if (Deno.args[0] === "--probe") {
    await probe(Deno.args[1] as Probe);
  } else {
    const hono = packageDir("hono", VERSIONS.hono);
    const libs: [string, string[]][] = [
      ["hono (Hono, cors, methodNotAllowed)", [
        packageEntry(hono, "", true)!,
        packageEntry(hono, "cors", true)!,
        packageEntry(hono, "method-not-allowed", true)!,
      ]],
      ["prom-client", [packageEntry(packageDir("prom-client", VERSIONS["prom-client"]))!]],
      ["pino", [packageEntry(packageDir("pino", VERSIONS.pino))!]],
    ];
    console.log("| library | files loaded | KiB | packages | loads computed at run time |");
    console.log("| --- | --: | --: | --: | --- |");
    for (const [name, entries] of libs) {
      const c = closure(entries);
      console.log(
        `| ${name} | ${c.files} | ${(c.bytes / 1024).toFixed(0)} | ${c.packages.size} (${
          [...c.packages].join(", ")
        }) | ${c.dynamic.length === 0 ? "none" : c.dynamic.join("; ")} |`,
      );
    }
    const ours = new Map<Probe, { rss: number; heapUsed: number }>();
    for (const name of PROBES) ours.set(name, await measure(name));
    const base = ours.get("baseline")!;
    console.log("\n| probe (10,000 operations, then GC) | RSS MB | Δ RSS over baseline MB | heap used MB |");
    console.log("| --- | --: | --: | --: |");
    for (const [name, m] of ours) {
      console.log(
        `| ${name} | ${(m.rss / 2 ** 20).toFixed(1)} | ${((m.rss - base.rss) / 2 ** 20).toFixed(1)} | ${
          (m.heapUsed / 2 ** 20).toFixed(1)
        } |`,
      );
    }
  }
}
