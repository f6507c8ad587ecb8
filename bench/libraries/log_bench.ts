/**
 * Cost of one access-log line: ours (`accessLog()` over `createLogger()` into `stdoutSink()`)
 * against pino (`pinoAccessLog()` over `pinoLogger()`), both writing real bytes to /dev/null
 * through their own buffering (our 16 KiB sink; sonic-boom with `minLength` just under its
 * 16 KiB `maxWrite`), and both into a stream that drops the line (the formatting alone). One
 * generic line with fields (`log.info("key_created", …)`) for each too, with pino's two ways
 * to redact.
 *
 *     deno bench -A bench/libraries/log_bench.ts   # Deno.bench, back to back
 *     deno run -A bench/libraries/log_bench.ts     # interleaved batches, median ns per call
 * @module
 */
import type { RequestRecord } from "../../lib/http/router.ts";
import { accessLog } from "../../lib/ops/access_log.ts";
import { createLogger } from "../../lib/ops/log.ts";
import { stdoutSink } from "../../lib/ops/sink.ts";
import { pino } from "./deps.ts";
import { type Case, interleave, registerBench, table } from "./measure.ts";
import { pinoAccessLog, pinoLogger, redactDeep } from "./pino_log.ts";

const devNull = Deno.openSync("/dev/null", { write: true });
const oursSink = stdoutSink(devNull);
const oursToDevNull = createLogger({ level: "info", clock: Date.now, write: oursSink.write });
const oursDropped = createLogger({ level: "info", clock: Date.now, write: () => {} });

const boom = pino.destination({ dest: "/dev/null", sync: false, minLength: 16 * 1024 - 1 });
await new Promise((resolve) => boom.once("ready", resolve));
const dropping = { write: () => {} };
const pinoToDevNull = pinoLogger({ destination: boom, clock: Date.now, redaction: "none" });
const pinoDropped = pinoLogger({ destination: dropping, clock: Date.now, redaction: "none" });
const pinoPaths = pinoLogger({ destination: dropping, clock: Date.now, redaction: "paths" });
const pinoWalk = pinoLogger({ destination: dropping, clock: Date.now, redaction: "walk" });

const ourHook = accessLog(oursToDevNull);
const ourDroppedHook = accessLog(oursDropped);
const pinoHook = pinoAccessLog(pinoToDevNull);
const pinoDroppedHook = pinoAccessLog(pinoDropped);

let n = 0;
const record = (): RequestRecord => ({
  method: "GET",
  path: "/.well-known/jwks.json",
  route: "/.well-known/jwks.json",
  status: 200,
  ms: 0.0421 + (n++ & 7) / 1000,
  ip: "127.0.0.1",
  requestId: "9b1f3c2e-4d5a-4b6c-8d7e-0f1a2b3c4d5e",
});
const fields = () => ({
  kid: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
  alg: "RS256",
  activatesAt: n++,
  exp: 1_800_000_000,
});

/** The cases, in groups; the first of each group is its baseline. */
export const cases: Case[] = [
  { name: "ours: accessLog → /dev/null", group: "access-log line", baseline: true, fn: () => ourHook(record()) },
  { name: "pino: info(fields) → sonic-boom /dev/null", group: "access-log line", fn: () => pinoHook(record()) },
  { name: "ours: accessLog, line dropped", group: "access-log line", fn: () => ourDroppedHook(record()) },
  { name: "pino: info(fields), line dropped", group: "access-log line", fn: () => pinoDroppedHook(record()) },
  {
    name: "ours: info(msg, fields), name rule",
    group: "generic line, dropped",
    baseline: true,
    fn: () => oursDropped.info("key_created", fields()),
  },
  {
    name: "ours + the deep walk of pino_log.ts (what our rule at any depth would cost)",
    group: "generic line, dropped",
    fn: () => oursDropped.info("key_created", redactDeep(fields()) as Record<string, unknown>),
  },
  {
    name: "pino: info(fields, msg), no redaction",
    group: "generic line, dropped",
    fn: () => pinoDropped.info(fields(), "key_created"),
  },
  {
    name: "pino: info(fields, msg), redact paths",
    group: "generic line, dropped",
    fn: () => pinoPaths.info(fields(), "key_created"),
  },
  {
    name: "pino: info(fields, msg), formatters.log walk",
    group: "generic line, dropped",
    fn: () => pinoWalk.info(fields(), "key_created"),
  },
];

registerBench(cases);

if (import.meta.main) {
  console.log(table(await interleave(cases, { batch: 5000 })));
  const out = { lines: [] as string[] };
  const capture = { write: (line: string) => void out.lines.push(line) };
  const sample = record();
  accessLog(createLogger({ level: "info", clock: () => 0, write: (line) => out.lines.push(line) }))(sample);
  pinoAccessLog(pinoLogger({ destination: capture, clock: () => 0, redaction: "none" }))(sample);
  console.log(`ours: ${out.lines[0]}\npino: ${out.lines[1]!.trimEnd()}`);
  oursSink.flush();
  boom.flushSync();
}
