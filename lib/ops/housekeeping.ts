/**
 * The server's background upkeep of its database, one step per maintenance tick: a WAL
 * checkpoint every minute (so a copy of a SQLite file alone is nearly complete even without
 * `backup`), and `auth_logs` rows past their retention deleted in small batches, each its own
 * short transaction, so no request waits long behind the write lock. Time is injected.
 * @module
 */
import type { Store } from "../store/ports.ts";
import type { Logger } from "./log.ts";

/** Options of {@linkcode housekeeping}. */
export interface HousekeepingOptions {
  readonly store: Pick<Store, "checkpoint" | "pruneLogins">;
  /** Unix milliseconds now. */
  readonly clock: () => number;
  /** How long `auth_logs` rows are kept, in seconds; null keeps them forever. */
  readonly authLogRetention: number | null;
  readonly log: Logger;
  /** Default 60 s. */
  readonly checkpointEveryMs?: number;
  /** How often pruning looks for old rows once it has caught up. Default 60 s. */
  readonly pruneEveryMs?: number;
  /** Rows deleted per transaction. Default 500. */
  readonly batch?: number;
  /** Batches per step; a longer backlog goes on at the next step. Default 20. */
  readonly maxBatches?: number;
}

/** Lets other work (requests) run between two batches. */
const yieldToOthers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The upkeep step: call it every tick; it does what is due and returns. Failures are logged
 * once per outage (`housekeeping_failed`) and retried at the next step.
 */
export function housekeeping(options: HousekeepingOptions): () => Promise<void> {
  const { store, clock, log } = options;
  const checkpointEvery = options.checkpointEveryMs ?? 60_000;
  const pruneEvery = options.pruneEveryMs ?? 60_000;
  const batch = options.batch ?? 500;
  const maxBatches = options.maxBatches ?? 20;
  let lastCheckpoint = clock();
  let nextPrune = clock();
  let failing = false;

  const prune = async (now: number) => {
    if (options.authLogRetention === null || now < nextPrune) return;
    const before = now - options.authLogRetention * 1000;
    let deleted = 0;
    let caughtUp = false;
    for (let i = 0; i < maxBatches && !caughtUp; i++) {
      if (i > 0) await yieldToOthers();
      const n = await store.pruneLogins(before, batch);
      deleted += n;
      caughtUp = n < batch;
    }
    // A backlog goes on at the next tick; once caught up, the next look is a while away.
    if (caughtUp) nextPrune = now + pruneEvery;
    if (deleted > 0) {
      log.info("auth_logs_pruned", { deleted, before: new Date(before).toISOString(), backlog: !caughtUp });
    }
  };

  return async () => {
    const now = clock();
    try {
      if (now - lastCheckpoint >= checkpointEvery) {
        lastCheckpoint = now;
        await store.checkpoint();
      }
      await prune(now);
      if (failing) log.info("housekeeping_recovered", {});
      failing = false;
    } catch (error) {
      if (!failing) log.error("housekeeping_failed", { error });
      failing = true;
    }
  };
}
