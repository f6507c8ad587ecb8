import assert from "node:assert/strict";
import { parseRawResponses } from "../../torture/fuzz.ts";

Deno.test("parseRawResponses() splits pipelined raw answers", () => {
  const text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}" +
    "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
  assert.deepEqual(parseRawResponses(text), [
    { status: 200, contentType: "application/json", body: "{}" },
    { status: 400, contentType: null, body: "" },
  ]);
});
