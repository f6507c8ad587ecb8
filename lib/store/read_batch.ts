/**
 * Batched reads for one synchronous connection: the reads asked during one turn of the event
 * loop run together at its end, in one read transaction, so a burst of lookups (one per request
 * in flight) takes SQLite's WAL read lock once instead of once each (two `fcntl` calls per
 * transaction). Each read still runs after it was asked for, so it sees every commit made before
 * it was asked; it answers one turn later. Runs no SQL of its own but `BEGIN` and `COMMIT`.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { databaseClosed, type Program, type Row, runProgram, type Statement } from "./sql.ts";

/** The most reads that share one transaction; the one that fills a batch runs it at once. */
export const MAX_BATCHED_READS = 64;

/** What {@linkcode ReadBatch} runs reads on. */
export interface ReadConnection {
  /** Runs one statement and returns its rows. */
  exec(statement: Statement): readonly Row[];
  /** Opens a deferred (read) transaction. */
  begin(): void;
  /** Ends the transaction `begin` opened; must not throw. */
  end(): void;
  /** False once the connection is closed: reads then fail with `closed()`. */
  readonly open: boolean;
  /** The error a read gets when the connection closed under it. */
  closed(): Error;
}

/** Options of {@linkcode ReadBatch}. */
export interface ReadBatchOptions {
  /** Reads per transaction at most. Default {@linkcode MAX_BATCHED_READS}. */
  max?: number;
  /** Schedules the flush at the end of this turn. Default `setImmediate` (after the turn's I/O). */
  defer?: (flush: () => void) => void;
}

interface Waiting {
  readonly program: Program<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Read-only programs queued for the end of the turn. Programs that write must not come here. */
export class ReadBatch {
  #connection: ReadConnection;
  #max: number;
  #defer: (flush: () => void) => void;
  #waiting: Waiting[] = [];

  constructor(connection: ReadConnection, options: ReadBatchOptions = {}) {
    this.#connection = connection;
    this.#max = options.max ?? MAX_BATCHED_READS;
    if (!Number.isSafeInteger(this.#max) || this.#max < 1) throw new RangeError(`Bad batch size ${this.#max}`);
    this.#defer = options.defer ?? ((flush) => void setImmediate(flush));
  }

  /** Runs the read-only `program` at the end of this turn, beside the other reads asked in it. */
  read<T>(program: Program<T>): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#waiting.push({ program, resolve: resolve as (value: unknown) => void, reject });
    if (this.#waiting.length >= this.#max) this.flush();
    else if (this.#waiting.length === 1) this.#defer(() => this.flush());
    return promise;
  }

  /** Runs every waiting read now; each settles on its own (one failing read fails only itself). */
  flush(): void {
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    const connection = this.#connection;
    if (!connection.open) {
      for (const waiting of batch) waiting.reject(connection.closed());
      return;
    }
    // One read needs no transaction of its own: autocommit takes the lock once either way.
    let shared = false;
    if (batch.length > 1) {
      try {
        connection.begin();
        shared = true;
      } catch {
        // Without the shared transaction each read takes its own lock, and still answers.
      }
    }
    const exec = (statement: Statement) => connection.exec(statement);
    try {
      for (const { program, resolve, reject } of batch) {
        try {
          resolve(runProgram(program, exec));
        } catch (error) {
          reject(error);
        }
      }
    } finally {
      if (shared) connection.end();
    }
  }
}

/** The batch for one `node:sqlite` connection whose statements run through `exec`. */
export function batchReadsOn(db: DatabaseSync, exec: (statement: Statement) => readonly Row[]): ReadBatch {
  return new ReadBatch({
    exec,
    begin: () => db.exec("BEGIN"),
    end: () => {
      // A read transaction has nothing to commit; this fails only on a connection already lost,
      // and the next statement reports that.
      try {
        db.exec("COMMIT");
      } catch {
        try {
          if (db.isTransaction) db.exec("ROLLBACK");
        } catch {
          // as above
        }
      }
    },
    get open() {
      return db.isOpen;
    },
    closed: databaseClosed,
  });
}
