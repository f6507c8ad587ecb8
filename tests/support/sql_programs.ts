/**
 * A migrated SQLite database for the tests of the shared SQL programs (`sql_users.ts`,
 * `sql_upkeep.ts`, `oauth_sql.ts`): the store creates and migrates a temporary file, then the
 * test runs programs on it directly, one synchronous statement at a time as SQLite does, and
 * reads the rows back with plain SQL.
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { openStore } from "../../lib/store/registry.ts";
import { type Program, type Row, runProgram } from "../../lib/store/sql.ts";
import { withTempDir } from "./helpers.ts";
import { contractSecret } from "./store_contract.ts";

/** A migrated database: `run` runs a program on it, `db` is the raw connection. */
export interface ProgramDatabase {
  run<T>(program: Program<T>): T;
  rows(sql: string, ...params: (string | number | null)[]): Row[];
  readonly db: DatabaseSync;
}

/** Runs `fn` with a freshly created and migrated SQLite database, removed afterwards. */
export async function withProgramDatabase<T>(fn: (database: ProgramDatabase) => Promise<T> | T): Promise<T> {
  return await withTempDir(async (dir) => {
    const path = `${dir}/programs.db`;
    await (await openStore(path, { secret: contractSecret })).close();
    const db = new DatabaseSync(path);
    try {
      return await fn({
        db,
        run: (program) => {
          db.exec("BEGIN IMMEDIATE");
          try {
            const result = runProgram(
              program,
              ({ sql, params }) => db.prepare(sql).all(...params as Parameters<StatementSync["all"]>),
            );
            db.exec("COMMIT");
            return result;
          } catch (error) {
            db.exec("ROLLBACK");
            throw error;
          }
        },
        rows: (sql, ...params) => db.prepare(sql).all(...params),
      });
    } finally {
      db.close();
    }
  });
}
