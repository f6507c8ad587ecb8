import assert from "node:assert/strict";
import { canonicalName, MAX_SUBJECT, normalizedName, subjectProblem } from "../../lib/core/names.ts";

Deno.test("canonicalName(): one account whatever the case or Unicode form of its name", async (t) => {
  await t.step("case, full-width forms and ligatures collapse to one key", () => {
    const key = canonicalName("alice");
    for (const name of ["Alice", "ALICE", "ａｌｉｃｅ", "ＡＬＩＣＥ"]) assert.equal(canonicalName(name), key, name);
    assert.equal(canonicalName("ﬁnn"), canonicalName("FINN"), "the fi ligature is f + i");
  });
  await t.step("composed and decomposed accents are the same name", () => {
    assert.equal(canonicalName("Jos\u00e9"), canonicalName("jose\u0301"));
  });
  await t.step("different letters stay different accounts", () => {
    assert.notEqual(canonicalName("alice"), canonicalName("alicia"));
    assert.notEqual(canonicalName("josé"), canonicalName("jose"));
  });
  await t.step("the key is stable: canonicalizing twice changes nothing", () => {
    for (const name of ["ＡＬＩＣＥ", "Straße", "İstanbul", "ǅ"]) {
      assert.equal(canonicalName(canonicalName(name)), canonicalName(name), name);
    }
  });
});

Deno.test("normalizedName() stores NFKC without changing case", () => {
  assert.equal(normalizedName("ＡＬＩＣＥ"), "ALICE");
  assert.equal(normalizedName("jose\u0301"), "jos\u00e9");
});

Deno.test("subjectProblem(): 1 to 255 printable characters, and why anything else is refused", async (t) => {
  await t.step("ordinary subjects, Unicode included, are accepted", () => {
    for (const subject of ["alice", "user@example.com", "名前", "a b", "x".repeat(MAX_SUBJECT)]) {
      assert.equal(subjectProblem(subject), null, subject);
    }
  });
  await t.step("empty and too long say so", () => {
    assert.equal(subjectProblem(""), "must not be empty");
    assert.equal(subjectProblem("x".repeat(MAX_SUBJECT + 1)), "must be at most 255 characters");
  });
  await t.step("controls, bidi overrides, zero-width, lone surrogates, private use and unassigned are refused", () => {
    for (const subject of ["a\nb", "a\u0000", "evil\u202Etxt", "a\u200Bb", "\uD800", "\uE000", "\u0378"]) {
      assert.match(subjectProblem(subject) ?? "", /must be printable/, JSON.stringify(subject));
    }
  });
});
