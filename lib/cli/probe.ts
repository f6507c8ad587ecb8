/**
 * `probe URL`: signs a control token and the forged-token catalogue with this server's own keys
 * (opened from its database and master secret, as the `keys` commands do) and reports which
 * forged tokens the API at URL accepts. The probe itself lives in `lib/probe/`.
 * @module
 */
import { runProbeCommand } from "../probe/command.ts";
import { withDatabase } from "./database.ts";
import { type Command, type CommandIo, stringFlag } from "./spec.ts";

/** `probe URL [options]`: exit 0 all rejected, 1 any accepted, 2 control refused or unreachable. */
export async function probe(command: Command, io: CommandIo): Promise<number> {
  // --issuer and --audience name what the target expects here, not the server's settings.
  const { issuer: _issuer, audience: _audience, ...flags } = command.flags;
  return await withDatabase(command, io, { mustExist: true, flags }, async ({ config, store, sealer }) => {
    const header = command.flags.header;
    const body = stringFlag(command, "body");
    const method = stringFlag(command, "method");
    const expectStatus = stringFlag(command, "expect-status");
    const timeout = stringFlag(command, "timeout");
    return await runProbeCommand({
      url: command.args[0],
      issuer: stringFlag(command, "issuer") ?? config.issuer,
      audience: stringFlag(command, "audience") ?? config.audience,
      json: command.flags.json === true,
      ...(Array.isArray(header) ? { header } : {}),
      ...(body === undefined ? {} : { body }),
      ...(method === undefined ? {} : { method }),
      ...(expectStatus === undefined ? {} : { expectStatus }),
      ...(timeout === undefined ? {} : { timeout }),
    }, {
      keys: { records: await store.listKeys(), sealer },
      clock: io.clock,
      write: io.write,
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
  });
}
