import assert from "node:assert/strict";
import { bytes, numberOrNull, type Program, q, type Row, runProgram, runProgramAsync } from "../../lib/store/sql.ts";

/** Yields two statements and sums the `n` of the rows it gets back. */
function* sum(): Program<number> {
  const first = yield q("SELECT ? AS n", 1);
  const second = yield q("SELECT ? AS n", 2);
  return Number(first[0]!.n) + Number(second[0]!.n);
}

const answer = (statement: { params: readonly unknown[] }): Row[] => [{ n: statement.params[0] }];

Deno.test("q() binds its values in order to the statement's placeholders", () => {
  assert.deepEqual(q("UPDATE keys SET exp = ? WHERE kid = ?", 5, 7), {
    sql: "UPDATE keys SET exp = ? WHERE kid = ?",
    params: [5, 7],
  });
});

Deno.test("a program is driven the same way synchronously and asynchronously", async (t) => {
  await t.step("runProgram() feeds each statement's rows back in and returns the result", () => {
    const seen: string[] = [];
    assert.equal(runProgram(sum(), (statement) => (seen.push(statement.sql), answer(statement))), 3);
    assert.deepEqual(seen, ["SELECT ? AS n", "SELECT ? AS n"]);
  });
  await t.step("runProgramAsync() awaits each statement before sending the next", async () => {
    let running = 0;
    const result = await runProgramAsync(sum(), async (statement) => {
      assert.equal(running++, 0, "one statement at a time");
      await Promise.resolve();
      running--;
      return answer(statement);
    });
    assert.equal(result, 3);
  });
  await t.step("a failing statement ends the program with its error", async () => {
    const fail = () => {
      throw new Error("driver says no");
    };
    assert.throws(() => runProgram(sum(), fail), /driver says no/);
    await assert.rejects(runProgramAsync(sum(), () => Promise.reject(new Error("driver says no"))), /driver says no/);
  });
});

Deno.test("driver values are read the same from every driver", () => {
  const raw = new Uint8Array([1, 2, 3]);
  const copy = bytes(raw);
  assert.deepEqual(copy, raw);
  raw[0] = 9;
  assert.equal(copy[0], 1, "bytes are copied, not aliased");
  assert.throws(() => bytes("0102"), TypeError);
  assert.equal(numberOrNull("9007199254740991"), 9007199254740991, "pg returns BIGINT as a string");
  assert.equal(numberOrNull(null), null);
  assert.equal(numberOrNull(undefined), null);
  assert.equal(numberOrNull(0), 0);
});
