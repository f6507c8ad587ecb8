/**
 * `GET /healthz` (the process answers) and `GET /readyz` (the database answers, a key signs, a
 * next key has been published for the lead time, and no stored key was refused or failed to
 * sign): what a load balancer or an orchestrator polls. Problems are listed by name; none
 * carries a path or a secret.
 * @module
 */
import { hasCode } from "../core/errors.ts";
import type { KeyView } from "../core/key_ring.ts";
import { json, NO_STORE } from "../http/respond.ts";
import type { Handler, Route } from "../http/router.ts";

/** What the health routes need. */
export interface HealthDeps {
  readonly keys: { view(): KeyView };
  /** Resolves when storage answers. */
  readonly ping: () => Promise<void>;
  /** Seconds a key must be published before it signs. */
  readonly lead: number;
}

/** Why the service is not ready now; empty when it is. */
export async function readinessProblems(deps: HealthDeps): Promise<string[]> {
  const problems: string[] = [];
  try {
    await deps.ping();
  } catch (error) {
    // Store errors that say what is wrong with the file carry no path and no secret.
    problems.push(hasCode(error, "unavailable") ? error.message : "database does not answer");
  }
  const view = deps.keys.view();
  problems.push(...view.problems);
  if (view.active === null) problems.push("no active signing key");
  if (view.next === null) problems.push("no published next key");
  else if (view.next.activatesAt - view.next.publishedAt < deps.lead) {
    problems.push("next key was published less than the lead time before it activates");
  }
  return problems;
}

/** The health and readiness routes. */
export function healthRoutes(deps: HealthDeps): Route[] {
  const healthz: Handler = (ctx) => json(ctx, 200, { status: "ok" }, NO_STORE);
  const readyz: Handler = async (ctx) => {
    const problems = await readinessProblems(deps);
    if (problems.length === 0) return json(ctx, 200, { status: "ready" }, NO_STORE);
    const message = `Not ready: ${problems.join("; ")}`;
    return json(ctx, 503, { error: "unavailable", message, checks: problems }, NO_STORE);
  };
  return [
    { path: "/healthz", methods: { GET: healthz } },
    { path: "/readyz", methods: { GET: readyz } },
  ];
}
