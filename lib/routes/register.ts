/**
 * `POST /register` `{"username", "email"}` → 201 `{"password"}`: a generated UUIDv4 password,
 * shown once and stored only as an Argon2id hash. Rate limited like `/auth`.
 * @module
 */
import { readFields } from "../http/body.ts";
import { json, NO_STORE } from "../http/respond.ts";
import { type Middleware, type Route, use } from "../http/router.ts";
import type { UserService } from "../users/users.ts";

/** What `POST /register` needs. */
export interface RegisterDeps {
  readonly users: UserService;
  /** Unix milliseconds now. */
  readonly clock: () => number;
  /** Runs before the body is read (the rate limit). */
  readonly guard?: Middleware;
}

/** The `POST /register` route. */
export function registerRoutes(deps: RegisterDeps): Route[] {
  const post = use(async (ctx) => {
    const fields = await readFields(ctx.request);
    const { password } = await deps.users.register(fields.username, fields.email, deps.clock(), { client: ctx.ip });
    return json(ctx, 201, { password }, NO_STORE);
  }, ...(deps.guard ? [deps.guard] : []));
  return [{ path: "/register", methods: { POST: post } }];
}
