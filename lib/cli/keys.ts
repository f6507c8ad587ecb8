/**
 * The `keys` commands on the server's database: `list`, `rotate`, `revoke KID` and
 * `import FILE`, or with `--server URL` the same through a running server's admin API. Each
 * prints what changed and the key set afterwards, as an aligned table or `--json`. A running
 * server on the same database picks changes up within its next tick and logs them.
 * @module
 */
import { ALGS, isAlg } from "../core/key_material.ts";
import { policyValue } from "../core/key_policy.ts";
import type { StoredPolicy } from "../store/ports.ts";
import { keyMaterialFromText } from "../keys/key_files.ts";
import { changeKeys, describeChange, type KeyInfo, type KeyReport, listKeyInfo } from "../keys/key_reports.ts";
import { keyManager, withDatabase } from "./database.ts";
import { readInput } from "./files.ts";
import { remoteImport, remoteList, remoteRevoke, remoteRotate, type RemoteServer, remoteServer } from "./remote.ts";
import { type Command, type CommandIo, jsonText, stringFlag, usage } from "./spec.ts";

/** The server `--server` names, or null to work on the database. */
function server(command: Command, io: CommandIo): RemoteServer | null {
  const url = stringFlag(command, "server");
  return url === undefined ? null : remoteServer(url, io, "--server");
}

const COLUMNS: readonly [string, (key: KeyInfo) => string][] = [
  ["KID", (key) => key.kid],
  ["ALG", (key) => key.alg],
  ["STATUS", (key) => key.status],
  // A revoked key that never signed says so, rather than showing the instant it was revoked.
  ["SIGNS FROM", (key) => key.activatesAt ?? (key.status === "revoked" ? "never" : "never (?expired only)")],
  ["SIGNS UNTIL", (key) => key.retiresAt ?? "-"],
  ["LEAVES JWKS", (key) => key.revokedAt === null ? key.expiresAt : `${key.revokedAt} (revoked)`],
];

/** The keys as an aligned table, for people. */
export function keyTable(keys: readonly KeyInfo[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...keys.map((key) => COLUMNS.map(([, cell]) => cell(key)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

function printReport(command: Command, io: CommandIo, report: KeyReport & { kid?: string }): void {
  if (command.flags.json === true) {
    io.write(jsonText(report));
    return;
  }
  const lines = report.changes.map(describeChange);
  if (lines.length === 0) lines.push("Nothing to change");
  io.write(lines.join("\n") + "\n\n" + keyTable(report.keys));
}

/** The stored policy in one line, for people. */
function policyLine(policy: StoredPolicy): string {
  const { rotationInterval, tokenTtl, clockSkew, retention, alg } = policy;
  return `Key policy (stored by the server): ${alg}, each key signs ${policyValue(rotationInterval)}, ` +
    `tokens live ${policyValue(tokenTtl)}, clock skew ${policyValue(clockSkew)}, ` +
    `expired keys kept ${policyValue(retention)}\n`;
}

/** `keys list`: every stored key and its status, and the stored policy; changes nothing. */
export async function keysList(command: Command, io: CommandIo): Promise<number> {
  const remote = server(command, io);
  if (remote !== null) {
    const { keys } = await remoteList(remote);
    io.write(command.flags.json === true ? jsonText({ keys }) : keyTable(keys));
    return 0;
  }
  return await withDatabase(command, io, { mustExist: true }, async ({ config, store }) => {
    const keys = await listKeyInfo(store, Math.floor(io.clock() / 1000));
    const policy = await store.keyPolicy();
    if (command.flags.json === true) io.write(jsonText({ keys, policy }));
    else {
      io.write(keys.length === 0 ? `No keys in "${config.db}"\n` : keyTable(keys));
      if (policy !== null) io.write(policyLine(policy));
    }
    return 0;
  });
}

/** `keys rotate`: the active key hands over as soon as the next key may sign. */
export async function keysRotate(command: Command, io: CommandIo): Promise<number> {
  const remote = server(command, io);
  if (remote !== null) return (printReport(command, io, await remoteRotate(remote)), 0);
  return await withDatabase(command, io, { mustExist: false }, async (opened) => {
    printReport(command, io, await changeKeys(await keyManager(opened, io, command), opened.store, { kind: "rotate" }));
    return 0;
  });
}

/** `keys revoke KID`: out of the JWKS at once; if it signed, its successor signs. */
export async function keysRevoke(command: Command, io: CommandIo): Promise<number> {
  const remote = server(command, io);
  if (remote !== null) return (printReport(command, io, await remoteRevoke(remote, command.args[0]!)), 0);
  return await withDatabase(command, io, { mustExist: true }, async (opened) => {
    printReport(
      command,
      io,
      await changeKeys(await keyManager(opened, io, command), opened.store, { kind: "revoke", kid: command.args[0]! }),
    );
    return 0;
  });
}

/** `keys import FILE`: a PEM or JWK private key, scheduled as the next key to sign. */
export async function keysImport(command: Command, io: CommandIo): Promise<number> {
  // --alg names the imported key's algorithm here, not that of keys the server generates.
  const alg = stringFlag(command, "alg");
  if (alg !== undefined && !isAlg(alg)) {
    throw usage(command, `Invalid --alg "${alg}": expected one of ${ALGS.join(", ")}`);
  }
  const { alg: _alg, ...flags } = command.flags;
  const text = await readInput(command.args[0]!, io, "Key file");
  const material = await keyMaterialFromText(text, alg);
  const remote = server(command, io);
  if (remote !== null) return (printReport(command, io, await remoteImport(remote, text, alg)), 0);
  return await withDatabase(command, io, { mustExist: false, flags }, async (opened) => {
    const report = await changeKeys(await keyManager(opened, io, command), opened.store, { kind: "import", material });
    printReport(command, io, { kid: material.kid, ...report });
    return 0;
  });
}
