import assert from "node:assert/strict";
import { clientAddress, inBlocks, parseCidr, parseIp } from "../../lib/http/client_ip.ts";

Deno.test("parseIp() takes IPv4, IPv6 (compressed, bracketed, IPv4-mapped) and nothing else", () => {
  assert.deepEqual(parseIp("192.0.2.1"), { v6: false, bits: 0xc0000201n });
  assert.deepEqual(parseIp("::1"), { v6: true, bits: 1n });
  assert.deepEqual(parseIp("[2001:db8::1]"), { v6: true, bits: 0x20010db8_00000000_00000000_00000001n });
  assert.deepEqual(parseIp("::ffff:192.0.2.1"), parseIp("192.0.2.1"), "IPv4-mapped is the IPv4 address");
  assert.deepEqual(parseIp("1:2:3:4:5:6:7:8"), { v6: true, bits: 0x00010002000300040005000600070008n });
  for (
    const bad of ["", "256.0.0.1", "01.2.3.4", "1.2.3", "1::2::3", "1:2:3:4:5:6:7:8:9", "spoofed", "1.2.3.4 ", "::g"]
  ) {
    assert.equal(parseIp(bad), null, JSON.stringify(bad));
  }
});

Deno.test("parseCidr() and inBlocks() match addresses inside a block, per family", () => {
  const blocks = ["10.0.0.0/8", "fd00::/8", "192.0.2.7"].map((text) => parseCidr(text)!);
  assert.ok(inBlocks(parseIp("10.255.0.1")!, blocks));
  assert.ok(inBlocks(parseIp("fdab::1")!, blocks));
  assert.ok(inBlocks(parseIp("192.0.2.7")!, blocks));
  assert.ok(!inBlocks(parseIp("11.0.0.1")!, blocks));
  assert.ok(!inBlocks(parseIp("192.0.2.8")!, blocks));
  assert.ok(!inBlocks(parseIp("::ffff:11.0.0.1")!, blocks));
  assert.equal(parseCidr("10.0.0.0/33"), null);
  assert.equal(parseCidr("10.0.0.0/8/8"), null);
  assert.equal(parseCidr("10.0.0.0/x"), null);
  assert.deepEqual(parseCidr("10.1.2.3/8"), { v6: false, bits: 0x0a000000n, prefix: 8 }, "host bits are masked");
});

Deno.test("clientAddress() believes X-Forwarded-For only from a trusted peer, and strictly", () => {
  const proxies = [parseCidr("127.0.0.0/8")!, parseCidr("10.0.0.0/8")!];
  assert.equal(clientAddress("198.51.100.1", "1.2.3.4", proxies), "198.51.100.1", "an untrusted peer is the client");
  assert.equal(clientAddress("127.0.0.1", "1.2.3.4", []), "127.0.0.1", "no proxies named: the peer");
  assert.equal(clientAddress("127.0.0.1", null, proxies), "127.0.0.1");
  assert.equal(clientAddress("127.0.0.1", "6.6.6.6, 1.2.3.4", proxies), "1.2.3.4", "the rightmost hop");
  assert.equal(clientAddress("127.0.0.1", "1.2.3.4, 10.0.0.9", proxies), "1.2.3.4", "skipping our own proxies");
  assert.equal(clientAddress("127.0.0.1", "10.0.0.8, 10.0.0.9", proxies), "10.0.0.8", "all proxies: the leftmost");
  assert.equal(clientAddress("127.0.0.1", "[2001:db8::1]", proxies), "2001:db8::1");
  for (
    const bad of [
      "spoofed, 1.2.3.4",
      "1.2.3.4,",
      "",
      "1.2.3.4:80",
      "x".repeat(2000),
      Array(20).fill("1.1.1.1").join(","),
    ]
  ) {
    assert.equal(clientAddress("127.0.0.1", bad, proxies), "127.0.0.1", `ignored: ${bad.slice(0, 30)}`);
  }
});
