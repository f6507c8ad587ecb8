/**
 * pino against our logging requirements, each checked by running it:
 * - it runs under this Deno without a worker transport: `pino.destination()` synchronous and
 *   asynchronous (sonic-boom), to a file and to fd 1;
 * - the redaction rule (a field whose NAME matches our pattern, at any depth) with `redact`
 *   paths and with a walking `formatters.log` hook, next to what ours does today;
 * - errors: pino's standard serializer (stack included) and ours (name, message, code, cause);
 * - compile-safety: which of pino's modules load files or start workers at run time.
 *
 *     deno run -A bench/libraries/pino_check.ts
 * @module
 */
import { createLogger } from "../../lib/ops/log.ts";
import { pino, VERSIONS } from "./deps.ts";
import { pinoLogger, type Redaction } from "./pino_log.ts";

const say = (line: string) => console.log(line);
const clock = () => Date.UTC(2026, 10, 22);

/** A stream that keeps the lines written to it. */
function memory(): { write(line: string): void; lines: string[] } {
  const lines: string[] = [];
  return { write: (line: string) => void lines.push(line), lines };
}

async function runsUnderDeno(): Promise<void> {
  say(`pino ${VERSIONS.pino} under Deno ${Deno.version.deno}`);
  const dir = await Deno.makeTempDir({ prefix: "libeval-pino-" });
  try {
    for (const sync of [true, false]) {
      const file = `${dir}/${sync ? "sync" : "async"}.log`;
      const destination = pino.destination({ dest: file, sync, minLength: sync ? 0 : 4096 });
      // An asynchronous destination opens its file in the background: writes wait for "ready".
      if (!sync) await new Promise((resolve) => destination.once("ready", resolve));
      const log = pino({ base: null }, destination);
      for (let i = 0; i < 1000; i++) log.info({ i }, "line");
      await new Promise((resolve) => {
        destination.once("close", resolve);
        destination.end();
      });
      const lines = (await Deno.readTextFile(file)).trim().split("\n");
      const last = JSON.parse(lines.at(-1)!);
      say(`- pino.destination({ sync: ${sync} }) to a file: ${lines.length} lines, last i=${last.i}`);
    }
    // fd 1 through sonic-boom, in a child process, so this report's stdout stays readable.
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["eval", `import pino from "npm:pino@${VERSIONS.pino}"; pino(pino.destination(1)).info("to fd 1");`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(child.stdout).trim();
    say(
      `- pino(pino.destination(1)) in a child: exit ${child.code}, ${
        out.includes('"msg":"to fd 1"') ? "line on stdout" : "NO line"
      }`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Field sets with one secret each; `found` says whether its value reached the line. */
const SECRETS: readonly [string, Record<string, unknown>][] = [
  ["password (top level)", { password: "S3CRET-1" }],
  ["adminToken (name contains token)", { adminToken: "S3CRET-2" }],
  ["Authorization (case)", { Authorization: "Basic S3CRET-3" }],
  ["new_password (name contains password)", { new_password: "S3CRET-4" }],
  ["d (private JWK member, top level)", { d: "S3CRET-5" }],
  ["user.password (one level down)", { user: { name: "u", password: "S3CRET-6" } }],
  ["jwk.d (one level down)", { jwk: { kty: "RSA", d: "S3CRET-7" } }],
  ["req.headers.cookie (two levels down)", { req: { headers: { cookie: "S3CRET-8" } } }],
  ["keys[0].d (in an array)", { keys: [{ kid: "k", d: "S3CRET-9" }] }],
  ["config.clientSecret (one level down, name contains secret)", { config: { clientSecret: "S3CRET-10" } }],
];

function redactionTable(): void {
  const loggers: [string, (fields: Record<string, unknown>) => string][] = [
    ["ours (lib/ops/log.ts)", (fields) => {
      const out = memory();
      createLogger({ level: "info", clock, write: out.write }).info("m", fields);
      return out.lines.join("");
    }],
    ...(["paths", "walk"] as Redaction[]).map((redaction): [string, (fields: Record<string, unknown>) => string] => [
      `pino, ${redaction === "paths" ? "redact paths (names, *.name)" : "formatters.log walk (our pattern)"}`,
      (fields) => {
        const out = memory();
        pinoLogger({ destination: out, clock, redaction }).info(fields, "m");
        return out.lines.join("");
      },
    ]),
  ];
  say("\nredaction: is the secret's value kept out of the line?");
  say(`| field | ${loggers.map(([name]) => name).join(" | ")} |`);
  say(`| --- | ${loggers.map(() => "---").join(" | ")} |`);
  for (const [label, fields] of SECRETS) {
    const secret = JSON.stringify(fields).match(/S3CRET-\d+/)![0];
    say(
      `| ${label} | ${loggers.map(([, log]) => log(fields).includes(secret) ? "**leaks**" : "redacted").join(" | ")} |`,
    );
  }
}

function errors(): void {
  const error = new Error("Cannot open the database", {
    cause: Object.assign(new Error("disk I/O error"), { code: "EIO" }),
  });
  const std = memory();
  pino({ base: null }, std).error({ err: error }, "failed");
  const stdLine = JSON.parse(std.lines[0]!);
  say("\nerrors:");
  say(
    `- pino's standard serializer (err key): keys ${Object.keys(stdLine.err).join(", ")}; stack written: ${
      typeof stdLine.err.stack === "string"
    }; cause message folded into message: ${JSON.stringify(stdLine.err.message)}`,
  );
  const plain = memory();
  pino({ base: null }, plain).error({ error }, "failed");
  say(`- pino with no serializer for our "error" key: ${JSON.stringify(JSON.parse(plain.lines[0]!).error)}`);
  const adopted = memory();
  pinoLogger({ destination: adopted, clock }).error({ error }, "failed");
  say(`- pino with our serializer on "error": ${JSON.stringify(JSON.parse(adopted.lines[0]!).error)}`);
  const mine = memory();
  createLogger({ level: "info", clock, write: mine.write }).error("failed", { error });
  say(`- ours: ${JSON.stringify(JSON.parse(mine.lines[0]!).error)}`);
}

async function compileSafety(): Promise<void> {
  const root = new URL("../../node_modules/.deno/pino@" + VERSIONS.pino + "/node_modules/pino/", import.meta.url);
  const files = ["pino.js", "lib/transport.js", "lib/tools.js", "lib/meta.js"];
  say("\ncompile-safety (what pino loads or starts at run time):");
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(new URL(file, root));
    } catch {
      say(`- ${file}: not found (install the packages first)`);
      continue;
    }
    const marks = [
      ["new Worker / ThreadStream", /new ThreadStream|new Worker\b/],
      ["require of a computed path", /(?:realRequire|require)\((?!['"])[^)]/],
      ["import() of a computed path", /import\((?!['"])/],
      ["require.resolve", /require\.resolve|createRequire/],
    ] as const;
    const found = marks.filter(([, re]) => re.test(text)).map(([name]) => name);
    say(`- ${file}: ${found.length === 0 ? "only static requires of packaged files" : found.join(", ")}`);
  }
}

if (import.meta.main) {
  await runsUnderDeno();
  redactionTable();
  errors();
  await compileSafety();
}
