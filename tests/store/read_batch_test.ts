import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MAX_BATCHED_READS, ReadBatch, type ReadConnection } from "../../lib/store/read_batch.ts";
import { type Program, q, type Row } from "../../lib/store/sql.ts";

/**
 * Two connections on one WAL file: `reader` is what the batch runs on, `writer` stands for
 * another process. `turns` holds the flushes the batch deferred; the test runs them when it
 * means the turn to end. `log` records the transaction calls.
 */
async function withFile(
  fn: (parts: {
    reader: DatabaseSync;
    writer: DatabaseSync;
    connection: ReadConnection;
    turns: (() => void)[];
    log: string[];
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const reader = new DatabaseSync(`${dir}/batch.db`);
  const writer = new DatabaseSync(`${dir}/batch.db`);
  try {
    writer.exec("PRAGMA journal_mode = WAL");
    writer.exec("CREATE TABLE users (name TEXT)");
    const log: string[] = [];
    const connection: ReadConnection = {
      exec: ({ sql, params }) => reader.prepare(sql).all(...params as string[]),
      begin: () => {
        log.push("begin");
        reader.exec("BEGIN");
      },
      end: () => {
        log.push("end");
        reader.exec("COMMIT");
      },
      get open() {
        return reader.isOpen;
      },
      closed: () => new Error("closed"),
    };
    await fn({ reader, writer, connection, turns: [], log });
  } finally {
    if (reader.isOpen) reader.close();
    writer.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function* count(): Program<number> {
  const [row] = yield q("SELECT COUNT(*) AS n FROM users");
  return Number((row as Row).n);
}

Deno.test("ReadBatch", async (t) => {
  await t.step(
    "reads asked in one turn run at its end, in one transaction, each seeing what was committed before it was asked",
    async () => {
      await withFile(async ({ writer, connection, turns, log }) => {
        const batch = new ReadBatch(connection, { defer: (flush) => turns.push(flush) });
        writer.exec("INSERT INTO users VALUES ('before')");
        let ran = 0;
        const first = batch.read((function* (): Program<number> {
          ran++;
          const n = yield* count();
          // Another process commits between two reads of the same turn: the second read shares
          // the first one's snapshot, taken after both were asked.
          writer.exec("INSERT INTO users VALUES ('during')");
          return n;
        })());
        const second = batch.read(count());
        assert.equal(ran, 0, "nothing runs before the turn ends");
        assert.equal(turns.length, 1, "one flush per turn");
        writer.exec("INSERT INTO users VALUES ('after asking')");
        turns.shift()!();
        assert.deepEqual(await Promise.all([first, second]), [2, 2]);
        assert.deepEqual(log, ["begin", "end"]);
        assert.equal(await runTurn(batch, turns, count()), 3, "the next turn sees the commit");
      });
    },
  );

  await t.step("a single read takes no transaction of its own", async () => {
    await withFile(async ({ connection, turns, log }) => {
      const batch = new ReadBatch(connection, { defer: (flush) => turns.push(flush) });
      assert.equal(await runTurn(batch, turns, count()), 0);
      assert.deepEqual(log, []);
    });
  });

  await t.step("a read that fails fails alone", async () => {
    await withFile(async ({ connection, turns }) => {
      const batch = new ReadBatch(connection, { defer: (flush) => turns.push(flush) });
      const bad = batch.read((function* (): Program<number> {
        yield q("SELECT name FROM no_such_table");
        return 0;
      })());
      const good = batch.read(count());
      turns.shift()!();
      await assert.rejects(bad, /no such table/);
      assert.equal(await good, 0);
    });
  });

  await t.step(`the read that fills a batch runs it at once (${MAX_BATCHED_READS} by default)`, async () => {
    await withFile(async ({ connection, turns, log }) => {
      const batch = new ReadBatch(connection, { defer: (flush) => turns.push(flush) });
      let ran = 0;
      const reads = [];
      for (let i = 0; i < MAX_BATCHED_READS + 1; i++) {
        reads.push(batch.read((function* (): Program<number> {
          ran++;
          return yield* count();
        })()));
      }
      assert.equal(ran, MAX_BATCHED_READS, "the full batch ran before the turn ended; the next read waits");
      assert.equal(turns.length, 2, "the read after the full batch starts a new one");
      for (const flush of turns.splice(0)) flush();
      assert.equal(ran, MAX_BATCHED_READS + 1);
      assert.equal((await Promise.all(reads)).length, MAX_BATCHED_READS + 1);
      assert.deepEqual(log, ["begin", "end"], "the 65th read ran alone");
      assert.throws(() => new ReadBatch(connection, { max: 0 }), RangeError);
    });
  });

  await t.step("reads fail with the connection's error once it closed, and a failed BEGIN still answers", async () => {
    await withFile(async ({ reader, connection, turns }) => {
      const failingBegin = new ReadBatch({
        ...connection,
        open: true,
        begin: () => {
          throw new Error("busy");
        },
      }, { defer: (flush) => turns.push(flush) });
      const both = [failingBegin.read(count()), failingBegin.read(count())];
      turns.shift()!();
      assert.deepEqual(await Promise.all(both), [0, 0]);

      const batch = new ReadBatch(connection, { defer: (flush) => turns.push(flush) });
      const read = batch.read(count());
      reader.close();
      turns.shift()!();
      await assert.rejects(read, /closed/);
    });
  });

  await t.step("by default the flush waits for the end of the turn (setImmediate)", async () => {
    await withFile(async ({ connection }) => {
      const batch = new ReadBatch(connection);
      assert.equal(await batch.read(count()), 0);
    });
  });
});

function runTurn<T>(batch: ReadBatch, turns: (() => void)[], program: Program<T>): Promise<T> {
  const read = batch.read(program);
  turns.shift()!();
  return read;
}
