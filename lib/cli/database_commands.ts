/**
 * The commands on the server's database, as entries of the command table: keys, users, OAuth
 * clients, the master secret, backups. Each names its options, help and runner; `commands.ts`
 * puts them in the table.
 * @module
 */
import { ALGS } from "../core/key_material.ts";
import { clientsAdd, clientsList, clientsRemove } from "./clients.ts";
import { backup, restore } from "./backup.ts";
import { keysImport, keysList, keysRevoke, keysRotate } from "./keys.ts";
import { secretRotate } from "./secret.ts";
import { type CommandSpec, JSON_OPTION, type OptionSpec } from "./spec.ts";
import { usersAdd } from "./users.ts";
const DB_NOTE = "A running server on the same database picks the change up within 2 s, without a restart, and\n" +
  "logs it. The keys commands plan with the key policy the server stored with the keys; a setting given\n" +
  "here that differs from it is named on stderr.";

/** `--server URL`: the same command through a running server's admin API. */
const SERVER_OPTION: Readonly<Record<string, OptionSpec>> = {
  server: {
    type: "string",
    arg: "URL",
    help: "do it through the admin API of the server at URL (token from ADMIN_TOKEN) instead of on the database",
  },
};

/** The commands on the database, in the order the overview lists them. */
export const DATABASE_COMMANDS: readonly CommandSpec[] = [
  {
    name: "keys list",
    usage: "[--json] [options]",
    summary: "list stored keys and their status",
    about: "Lists every stored key: kid, algorithm, status (next, active, retired, expired, revoked) and\n" +
      'when it signs and leaves the JWKS ("never" for a key revoked before its turn), then the key policy\n' +
      "the server stored. Reads the database; changes nothing.",
    options: { ...JSON_OPTION, ...SERVER_OPTION },
    scope: "db",
    run: keysList,
  },
  {
    name: "keys rotate",
    usage: "[--json] [options]",
    summary: "rotate now (a running server picks it up)",
    about: "Rotates now: the active key hands over to the published next key as soon as that key has\n" +
      `been in the JWKS for max-age + 30 s, and a new next key is published.\n${DB_NOTE}`,
    options: { ...JSON_OPTION, ...SERVER_OPTION },
    scope: "db",
    run: keysRotate,
  },
  {
    name: "keys revoke",
    usage: "KID [--json] [options]",
    summary: "remove a key from the JWKS at once",
    about: "Emergency revoke: removes the key KID from the JWKS at once. If it was the signing key, the\n" +
      "next key signs immediately. Tokens it signed stop verifying once verifiers refetch the JWKS.",
    options: { ...JSON_OPTION, ...SERVER_OPTION },
    scope: "db",
    positionals: ["KID"],
    required: 1,
    run: keysRevoke,
  },
  {
    name: "keys import",
    usage: "FILE [--alg ALG] [--json] [options]",
    summary: "import a PEM or JWK private key as the next key",
    about: 'Imports a private key (PEM: PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY", SEC1\n' +
      '"EC PRIVATE KEY"; or a private JWK) and schedules it as the next key to sign. It is sealed with\n' +
      'the master secret like a generated key; its kid is its RFC 7638 thumbprint. FILE "-" reads stdin.',
    options: {
      alg: { type: "string", arg: "ALG", help: `the key's algorithm: ${ALGS.join(", ")} (default: from the key)` },
      ...JSON_OPTION,
      ...SERVER_OPTION,
    },
    scope: "db",
    positionals: ["FILE"],
    required: 1,
    run: keysImport,
  },
  {
    name: "users add",
    usage: "USERNAME [--email E] [--json] [options]",
    summary: "register a user; prints the generated password once",
    about: "Registers a user with a generated password (a UUID), printed once and stored only as an\n" +
      "Argon2id hash. Fails if the username or email is taken.",
    options: { email: { type: "string", arg: "E", help: "the user's email address" }, ...JSON_OPTION },
    scope: "db",
    positionals: ["USERNAME"],
    required: 1,
    run: usersAdd,
  },
  {
    name: "clients add",
    usage: "NAME [--scope S]... [--grant G]... [--redirect-uri U]... [--audience A]... [--public] [--json] [options]",
    summary: "register an OAuth client; prints its secret once",
    about: "Registers an OAuth client for POST /token. A confidential client gets a random client_id and a\n" +
      "256-bit client_secret, printed once and stored only as its SHA-256. --public makes a client\n" +
      "without a secret (a native or browser app). Default grants: client_credentials, or for a public\n" +
      "client password and refresh_token. A refresh token needs --grant refresh_token and --scope\n" +
      "offline_access. Browser sign-in (GET /authorize) needs --grant authorization_code and an exact\n" +
      "--redirect-uri. See docs/oauth.md.",
    options: {
      scope: { type: "string", multiple: true, arg: "S", help: "a scope it may ask for (repeatable)" },
      grant: {
        type: "string",
        multiple: true,
        arg: "G",
        help: "authorization_code, client_credentials, password or refresh_token (repeatable)",
      },
      "redirect-uri": {
        type: "string",
        multiple: true,
        arg: "U",
        help: "a redirect URI of GET /authorize, compared exactly (repeatable)",
      },
      audience: { type: "string", multiple: true, arg: "A", help: "an aud it may ask for (repeatable)" },
      public: { type: "boolean", help: "a public client: no secret" },
      ...JSON_OPTION,
    },
    scope: "db",
    positionals: ["NAME"],
    required: 1,
    run: clientsAdd,
  },
  {
    name: "clients list",
    usage: "[--json] [options]",
    summary: "list OAuth clients",
    about: "Lists every OAuth client: client_id, name, grant types, scopes, audiences, redirect URIs. Never\n" +
      "a secret: secrets are shown once, by clients add.",
    options: JSON_OPTION,
    scope: "db",
    run: clientsList,
  },
  {
    name: "clients remove",
    usage: "ID [--json] [options]",
    summary: "remove an OAuth client",
    about: "Removes the client ID and revokes its refresh tokens (and the access tokens issued with them).\n" +
      "Other access tokens it holds stay valid until they expire.",
    options: JSON_OPTION,
    scope: "db",
    positionals: ["ID"],
    required: 1,
    run: clientsRemove,
  },
  {
    name: "secret rotate",
    usage: "[--json] [options]",
    summary: "re-seal every key under NEW_NOT_MY_KEY",
    about: "Seals every private key (and the master-secret check) again under the new master secret, opening\n" +
      "them with the current one, in one transaction: a crash leaves all of them under the old secret or\n" +
      "all under the new one. Both secrets come from the environment: NOT_MY_KEY (current) and\n" +
      "NEW_NOT_MY_KEY (new), never from the command line. Kids, the JWKS and issued tokens are unchanged.\n" +
      "Then restart the server with NOT_MY_KEY set to the new secret (several instances: start each with\n" +
      "NOT_MY_KEY=<new> NOT_MY_KEY_PREVIOUS=<old> until none runs with the old one). See docs/operations.md.",
    options: JSON_OPTION,
    scope: "db",
    run: secretRotate,
  },
  {
    name: "backup",
    usage: "FILE [--json] [options]",
    summary: "write a verified copy of the database (online)",
    about: "Writes a consistent copy of the SQLite database to the new file FILE (mode 0600) while the server\n" +
      "keeps serving and writing (SQLite's online backup), then checks it: integrity, and every key opens with the\n" +
      "master secret. Copying the database file alone is not a backup: recent changes live in its -wal\n" +
      "file. PostgreSQL: use pg_dump (docs/operations.md).",
    options: JSON_OPTION,
    scope: "db",
    positionals: ["FILE"],
    required: 1,
    run: backup,
  },
  {
    name: "restore",
    usage: "FILE [--json] [options]",
    summary: "put a verified backup in place (server stopped)",
    about: "Checks the backup FILE (integrity; the master secret opens every key), then puts it in place of the\n" +
      "database atomically; the database it replaces is kept as <db>.before-restore. Refused while a\n" +
      "server or another command has the database open: stop the server first, start it afterwards.",
    options: JSON_OPTION,
    scope: "db",
    positionals: ["FILE"],
    required: 1,
    run: restore,
  },
];
