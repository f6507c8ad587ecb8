/**
 * Micro benchmark of one Argon2id verification at the product's parameters (m = 19 MiB, t = 2,
 * p = 1): the work a password login puts on a hashing thread, never on the request thread.
 * @module
 */
import { argon2Hasher } from "../lib/users/argon2.ts";

const hasher = argon2Hasher();
const password = crypto.randomUUID();
const hash = await hasher.hash(password);

Deno.bench("Argon2id verify (m = 19 MiB, t = 2, p = 1)", { group: "hashing", n: 20, warmup: 2 }, async () => {
  await hasher.verify(hash, password);
});
