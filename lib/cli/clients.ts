/**
 * The `clients` commands on the server's database: `add NAME` (prints the client secret once),
 * `list` and `remove ID`. A running server sees the change at its next request: clients are
 * read from the store, not cached.
 * @module
 */
import { ClientService, type ClientView, clientView } from "../oauth/clients.ts";
import { withDatabase } from "./database.ts";
import { type Command, type CommandIo, jsonText } from "./spec.ts";

function list(command: Command, name: string): string[] {
  const value = command.flags[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}

function withClients<T>(command: Command, io: CommandIo, run: (clients: ClientService) => Promise<T>): Promise<T> {
  return withDatabase(command, io, { mustExist: false }, ({ store }) => run(new ClientService(store.oauth)));
}

function describe(client: ClientView): string {
  const lines = [
    `${client.name} (${client.public ? "public" : "confidential"})`,
    `  client_id:     ${client.client_id}`,
    `  grant types:   ${client.grant_types.join(" ") || "-"}`,
    `  scopes:        ${client.scopes.join(" ") || "-"}`,
    `  audiences:     ${client.audiences.join(" ") || "-"}`,
    `  redirect URIs: ${client.redirect_uris.join(" ") || "-"}`,
  ];
  return lines.join("\n") + "\n";
}

/** `clients add NAME`: registers a client; prints its secret once. */
export async function clientsAdd(command: Command, io: CommandIo): Promise<number> {
  return await withClients(command, io, async (clients) => {
    const { client, secret } = await clients.register({
      name: command.args[0],
      grantTypes: list(command, "grant"),
      scopes: list(command, "scope"),
      redirectUris: list(command, "redirect-uri"),
      audiences: list(command, "audience"),
      public: command.flags.public === true,
    }, Math.floor(io.clock() / 1000));
    const view = clientView(client);
    if (command.flags.json === true) {
      io.write(jsonText({ ...view, ...(secret === null ? {} : { client_secret: secret }) }));
    } else {
      io.write(`Created client ${describe(view)}`);
      io.write(secret === null ? "Public client: no secret.\n" : `Client secret, shown once: ${secret}\n`);
    }
    return 0;
  });
}

/** `clients list`. */
export async function clientsList(command: Command, io: CommandIo): Promise<number> {
  return await withClients(command, io, async (clients) => {
    const views = (await clients.list()).map(clientView);
    if (command.flags.json === true) io.write(jsonText({ clients: views }));
    else io.write(views.length === 0 ? "No clients.\n" : views.map(describe).join("\n"));
    return 0;
  });
}

/** `clients remove ID`: removes the client and revokes its refresh tokens. */
export async function clientsRemove(command: Command, io: CommandIo): Promise<number> {
  return await withClients(command, io, async (clients) => {
    const id = command.args[0]!;
    await clients.remove(id, Math.floor(io.clock() / 1000));
    io.write(command.flags.json === true ? jsonText({ removed: id }) : `Removed client ${id}\n`);
    return 0;
  });
}
