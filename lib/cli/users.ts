/**
 * `users add USERNAME [--email E]`: registers a user on the server's database with a generated
 * password, printed once and stored only as an Argon2id hash.
 * @module
 */
import { argon2Hasher } from "../users/argon2.ts";
import { UserService } from "../users/users.ts";
import { withDatabase } from "./database.ts";
import { type Command, type CommandIo, jsonText, stringFlag } from "./spec.ts";

/** `users add`: prints the generated password once. */
export async function usersAdd(command: Command, io: CommandIo): Promise<number> {
  return await withDatabase(command, io, { mustExist: false }, async ({ store }) => {
    const users = new UserService({ store, hasher: io.hasher ?? argon2Hasher() });
    const { user, password } = await users.register(command.args[0], stringFlag(command, "email"), io.clock());
    if (command.flags.json === true) {
      io.write(jsonText({ id: user.id, username: user.username, email: user.email, password }));
    } else {
      io.write(`Created user "${user.username}" (id ${user.id})\nPassword, shown once: ${password}\n`);
    }
    return 0;
  });
}
