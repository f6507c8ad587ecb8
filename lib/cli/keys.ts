/**
 * The `keys` commands on the server's database: `list`, `rotate`, `revoke KID` and
 * `import FILE`. Each prints what changed and the key set afterwards, as an aligned table or
 * `--json`. A running server on the same database picks changes up within its next tick.
 * @module
 */
import { ALGS, isAlg } from "../core/key_material.ts";
import { keyMaterialFromText } from "../keys/key_files.ts";
import {
  describeChange,
  importKey,
  type KeyInfo,
  type KeyReport,
  listKeyInfo,
  revokeKey,
  rotateKeys,
} from "../keys/key_reports.ts";
import { keyManager, withDatabase } from "./database.ts";
import { readInput } from "./files.ts";
import { type Command, type CommandIo, jsonText, stringFlag, usage } from "./spec.ts";

const COLUMNS: readonly [string, (key: KeyInfo) => string][] = [
  ["KID", (key) => key.kid],
  ["ALG", (key) => key.alg],
  ["STATUS", (key) => key.status],
  ["SIGNS FROM", (key) => key.activatesAt],
  ["SIGNS UNTIL", (key) => key.retiresAt],
  ["LEAVES JWKS", (key) => key.expiresAt],
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

/** `keys list`: every stored key and its status; changes nothing. */
export async function keysList(command: Command, io: CommandIo): Promise<number> {
  return await withDatabase(command, io, { mustExist: true }, async ({ config, store }) => {
    const keys = await listKeyInfo(store, Math.floor(io.clock() / 1000));
    if (command.flags.json === true) io.write(jsonText({ keys }));
    else io.write(keys.length === 0 ? `No keys in "${config.db}"\n` : keyTable(keys));
    return 0;
  });
}

/** `keys rotate`: the active key hands over as soon as the next key may sign. */
export async function keysRotate(command: Command, io: CommandIo): Promise<number> {
  return await withDatabase(command, io, { mustExist: false }, async (opened) => {
    printReport(command, io, await rotateKeys(keyManager(opened, io), opened.store));
    return 0;
  });
}

/** `keys revoke KID`: out of the JWKS at once; if it signed, its successor signs. */
export async function keysRevoke(command: Command, io: CommandIo): Promise<number> {
  return await withDatabase(command, io, { mustExist: true }, async (opened) => {
    printReport(command, io, await revokeKey(keyManager(opened, io), opened.store, command.args[0]!));
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
  const material = await keyMaterialFromText(await readInput(command.args[0]!, io, "Key file"), alg);
  return await withDatabase(command, io, { mustExist: false, flags }, async (opened) => {
    const report = await importKey(keyManager(opened, io), opened.store, material);
    printReport(command, io, { kid: material.kid, ...report });
    return 0;
  });
}
