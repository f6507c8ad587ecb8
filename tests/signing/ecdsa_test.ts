import assert from "node:assert/strict";
import { derToJose } from "../../lib/signing/ecdsa.ts";

const hex = (text: string) => Uint8Array.fromHex(text.replaceAll(" ", ""));

Deno.test("derToJose() left-pads r and s to 32 bytes and drops DER's sign bytes", () => {
  const r = "00" + "ff".repeat(32);
  const s = "01";
  const der = hex(`30 26 02 21 ${r} 02 01 ${s}`);
  const jose = derToJose(der);
  assert.equal(jose.byteLength, 64);
  assert.deepEqual(jose.subarray(0, 32), hex("ff".repeat(32)));
  assert.deepEqual(jose.subarray(32), hex("00".repeat(31) + "01"));
});

Deno.test("derToJose() refuses anything but one well-formed signature", () => {
  for (
    const bad of [
      "",
      "31 06 02 01 01 02 01 01",
      "30 07 02 01 01 02 01 01",
      "30 06 02 01 01 02 01 01 00",
      "30 06 03 01 01 02 01 01",
      `30 25 02 21 01${"ff".repeat(32)} 02 00`,
      `30 24 02 21 01${"ff".repeat(32)} 02 01`,
    ]
  ) {
    assert.throws(() => derToJose(hex(bad)), /malformed ECDSA signature/, bad);
  }
});
