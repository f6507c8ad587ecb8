/**
 * Every shell example of README.md and docs/*.md, run as printed, in order, and checked to do
 * what the text says. The convention every document follows:
 *
 * - A fenced block ```` ```sh ```` is a shell example; other fences (`text`, `json`, `ts`,
 *   `yaml`, `mermaid`, `sql`) are not run. A shell example indented or fenced as `bash` or
 *   `shell` fails the test (it would be skipped silently otherwise).
 * - Each document runs in a fresh copy of the repository (its tracked files, as a clone has
 *   them), in one bash session: blocks run in document order, and variables and the working
 *   directory carry over from block to block, as in one terminal.
 * - Each line is a command (a trailing `\` continues it) and must exit 0. A trailing comment
 *   `# → TEXT` says what its output (stdout and stderr) contains, `…` matching anything within
 *   a line; `# → exit N` or `# → exit N: TEXT` says it exits N. Other comments are prose.
 * - ```` ```sh background ```` starts programs that run until stopped (a server): each line
 *   runs in the background, in its own process group, seeing the exported variables; the
 *   runner waits until each answers (the `http://127.0.0.1:PORT` or `--port PORT` its line
 *   names, or the server's default port; a 503 while starting does not count) and stops them all, SIGTERM to the group, once the next foreground
 *   block is done. Their log must hold no `"level":"error"` line.
 * - ```` ```sh skip=REASON ```` is shown and not run, for a reason of `SKIP_REASONS` only:
 *   `internet`, `suite` (the test suite itself, or a benchmark), `placeholder` (your hosts).
 * - Ports: each port a document names (8080, 8081, …) is mapped to a free ephemeral port, in
 *   the commands, their expectations and the copy's `docs/examples/`; `PORT` is exported as
 *   the one for 8080. `npx -y deno@2.9.6` runs as the `deno` running the tests (the same
 *   version; nothing is downloaded).
 *
 * `DOCS=README.md,docs/cli.md deno task test tests/e2e/docs_test.ts` runs some documents only.
 * @module
 */
import assert from "node:assert/strict";
import { collectLines, freePort, scenario } from "../support/server_process.ts";
import {
  type Command,
  documentedPorts,
  outputMatches,
  type ShellBlock,
  shellBlocks,
  SKIP_REASONS,
  withPorts,
} from "../support/doc_examples.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const COMMAND_TIMEOUT_MS = 60_000;
const END = "\x1eEND";

/** The documents whose examples run: the README, then docs/ in name order (`DOCS=a.md,b.md` picks some). */
function documents(): string[] {
  const picked = Deno.env.get("DOCS");
  if (picked) return picked.split(",");
  const docs = [...Deno.readDirSync(`${ROOT}docs`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", ...docs];
}

/** A fresh copy of the repository's files (tracked, or new and not ignored), with its node_modules linked. */
async function freshCopy(ports: ReadonlyMap<number, number>): Promise<string> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "--cached", "--others", "--exclude-standard", "-z"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const dir = await Deno.makeTempDir({ prefix: "jwks-docs-" });
  for (const file of new TextDecoder().decode(listed.stdout).split("\0").filter((name) => name !== "")) {
    const from = `${ROOT}${file}`;
    try {
      if (!Deno.statSync(from).isFile) continue;
    } catch {
      continue; // deleted in the working tree
    }
    Deno.mkdirSync(`${dir}/${file}`.replace(/\/[^/]+$/, ""), { recursive: true });
    if (file.startsWith("docs/examples/")) {
      let text = Deno.readTextFileSync(from);
      for (const [documented, used] of ports) text = text.replace(new RegExp(`\\b${documented}\\b`, "g"), String(used));
      Deno.writeTextFileSync(`${dir}/${file}`, text);
    } else Deno.copyFileSync(from, `${dir}/${file}`);
  }
  Deno.symlinkSync(`${ROOT}node_modules`, `${dir}/node_modules`);
  return dir;
}

/** True once something answers on `port` and is not still starting (jwks-server's 503 while it opens its database). */
async function listens(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status !== 503;
  } catch {
    return false;
  }
}

/** One bash session: commands in, their output and exit status out. */
class Session {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #output = "";
  #waiting: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(cwd: string, env: Record<string, string>) {
    this.#child = new Deno.Command("bash", {
      args: ["--noprofile", "--norc"],
      cwd,
      env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    const collect = (line: string) => {
      this.#output += line + "\n";
      this.#waiting?.();
    };
    this.done = Promise.all([collectLines(this.#child.stdout, collect), collectLines(this.#child.stderr, collect)])
      .then(() => {});
  }

  /** Runs `text` in the session; resolves with its output and exit code. */
  async run(text: string): Promise<{ output: string; code: number }> {
    this.#output = "";
    const script = `{ ${text}\n} < /dev/null 2>&1\nprintf '\\n${END} %s\\n' "$?"\n`;
    await this.#writer.write(new TextEncoder().encode(script));
    const deadline = Date.now() + COMMAND_TIMEOUT_MS;
    for (;;) {
      const at = this.#output.lastIndexOf(`${END} `);
      if (at >= 0 && this.#output.endsWith("\n")) {
        return { output: this.#output.slice(0, at).replace(/\n$/, ""), code: Number(this.#output.slice(at + 5)) };
      }
      if (Date.now() > deadline) throw new Error(`no end within ${COMMAND_TIMEOUT_MS} ms; output: ${this.#output}`);
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
    await this.done;
  }
}

/** Stops a background process group: SIGTERM, then SIGKILL after 15 s. */
async function stopGroup(pgid: number): Promise<void> {
  const alive = async () =>
    (await new Deno.Command("kill", { args: ["-0", "--", `-${pgid}`], stderr: "null" }).output()).success;
  try {
    Deno.kill(-pgid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 15_000;
  while (await alive()) {
    if (Date.now() > deadline) {
      Deno.kill(-pgid, "SIGKILL");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Background {
  readonly pgid: number;
  readonly log: string;
  readonly what: string;
}

/** Runs the examples of one document; returns what it ran and skipped. */
async function runDocument(name: string, t: Deno.TestContext): Promise<{ ran: number; skipped: string[] }> {
  const blocks: ShellBlock[] = shellBlocks(Deno.readTextFileSync(`${ROOT}${name}`));
  const ports = new Map<number, number>();
  for (const port of documentedPorts(blocks)) ports.set(port, freePort());
  const cwd = await freshCopy(ports);
  const logs = await Deno.makeTempDir({ prefix: "jwks-docs-logs-" });
  const env: Record<string, string> = { NO_COLOR: "1", PORT: String(ports.get(8080)) };
  for (const key of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  const session = new Session(cwd, env);
  const running: Background[] = [];
  const skipped: string[] = [];
  let ran = 0;
  const prepare = (command: Command) => withPorts(command.text, ports).replaceAll("npx -y deno@2.9.6", "deno");
  try {
    for (const block of blocks) {
      if (block.kind === "skip") {
        skipped.push(`${name}:${block.line} (${block.reason}: ${SKIP_REASONS[block.reason!]})`);
        continue;
      }
      if (block.kind === "background") {
        for (const command of block.commands) {
          const log = `${logs}/bg-${running.length}.log`;
          const script = `${logs}/bg-${running.length}.sh`;
          Deno.writeTextFileSync(script, prepare(command) + "\n");
          const { output } = await session.run(`setsid bash ${script} > ${log} 2>&1 < /dev/null & echo "$!"`);
          const pgid = Number(output.trim());
          const what = `${name}:${command.line} \`${command.text}\``;
          running.push({ pgid, log, what });
          const named = /127\.0\.0\.1:(\d+)|--port[ =](\d+)/g;
          const urls = [...withPorts(command.text, ports).matchAll(named)].map((m) => Number(m[1] ?? m[2]));
          const port = urls[0] ?? ports.get(8080)!;
          const deadline = Date.now() + 30_000;
          while (!await listens(port)) {
            if (Date.now() > deadline) assert.fail(`${what} did not listen on ${port}: ${Deno.readTextFileSync(log)}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        continue;
      }
      await t.step(`${name}:${block.line}`, async () => {
        for (const command of block.commands) {
          const { output, code } = await session.run(prepare(command));
          ran++;
          const where = `${name}:${command.line} \`${command.text}\``;
          const servers = () =>
            running.map((server) => `\n--- ${server.what}:\n${Deno.readTextFileSync(server.log).slice(-3000)}`).join(
              "",
            );
          assert.equal(code, command.expect.exit, `${where} exited ${code}:\n${output}${servers()}`);
          const expected = command.expect.output === null ? null : withPorts(command.expect.output, ports);
          if (expected !== null) {
            assert.ok(outputMatches(output, expected), `${where} printed no "${expected}":\n${output}`);
          }
        }
      });
      for (const server of running.splice(0)) {
        await stopGroup(server.pgid);
        const log = Deno.readTextFileSync(server.log);
        assert.ok(!log.includes('"level":"error"'), `${server.what} logged an error:\n${log}`);
      }
    }
  } finally {
    for (const server of running) await stopGroup(server.pgid);
    await session.close();
    await Deno.remove(cwd, { recursive: true });
    await Deno.remove(logs, { recursive: true });
  }
  return { ran, skipped };
}

scenario("every shell example of README.md and docs/*.md runs as printed and does what the text says", async (t) => {
  const skipped: string[] = [];
  let ran = 0;
  for (const name of documents()) {
    const result = await runDocument(name, t);
    ran += result.ran;
    skipped.push(...result.skipped);
  }
  console.log(`${ran} commands ran; skipped blocks:\n  ${skipped.join("\n  ")}`);
  assert.ok(ran > 0);
});

Deno.test("the example convention: blocks, commands, expectations and ports are read as documented", () => {
  const blocks = shellBlocks([
    "```sh background",
    "deno task start --auth open   # the issuer, http://127.0.0.1:8080",
    "```",
    "```sh",
    'curl -s http://127.0.0.1:8080/jwks   # → {"keys":[…]}',
    "deno task cli probe \\",
    "  http://127.0.0.1:8081/ --audience '#not a comment'   # → exit 1: FAIL: …",
    "# a comment line",
    "```",
    "```sh skip=internet",
    "./gradebot project1",
    "```",
  ].join("\n"));
  assert.deepEqual(blocks.map((block) => [block.kind, block.commands.length]), [["background", 1], ["run", 2], [
    "skip",
    1,
  ]]);
  const [curl, probe] = blocks[1]!.commands;
  assert.deepEqual(curl!.expect, { exit: 0, output: '{"keys":[…]}' });
  assert.deepEqual(probe!.expect, { exit: 1, output: "FAIL: …" });
  assert.match(probe!.text, /'#not a comment'$/);
  assert.ok(outputMatches('{"keys":[{"kty":"RSA"}]}', '{"keys":[…]}'));
  assert.ok(!outputMatches("FAIL\n: x", "FAIL: …"), "… stays within a line");
  assert.deepEqual(documentedPorts(blocks).sort(), [8080, 8081]);
  assert.equal(
    withPorts("a http://127.0.0.1:8080/x --port 8081", new Map([[8080, 1], [8081, 2]])),
    "a http://127.0.0.1:1/x --port 2",
  );
  assert.throws(() => shellBlocks("  ```sh\n  ls\n  ```"), /at the margin/);
  assert.throws(() => shellBlocks("```bash\nls\n```"), /at the margin/);
  assert.throws(() => shellBlocks("```sh skip=lazy\nls\n```"), /skip reason "lazy"/);
});

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[`*_]/g, "").replace(/[^\p{L}\p{N} -]/gu, "").replaceAll(" ", "-");
}

Deno.test("every relative link of README.md and docs/*.md names a file that exists, and a heading in it", () => {
  const broken: string[] = [];
  for (const name of documents()) {
    const text = Deno.readTextFileSync(`${ROOT}${name}`);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [file, anchor] = target!.split("#");
      const path = file === "" ? name : new URL(file!, `file://${ROOT}${name}`).pathname.slice(ROOT.length);
      let linked: string;
      try {
        linked = Deno.readTextFileSync(`${ROOT}${path}`);
      } catch {
        broken.push(`${name}: ${target} (no file)`);
        continue;
      }
      if (anchor === undefined || !path.endsWith(".md")) continue;
      const anchors = [...linked.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!));
      if (!anchors.includes(anchor)) broken.push(`${name}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});
