/**
 * Who the client is: the socket peer, unless the peer is a proxy we trust, in which case the
 * client is the rightmost `X-Forwarded-For` hop that is not one of our proxies. Trusted proxies
 * are addresses or CIDR blocks (IPv4 and IPv6); a header that does not parse strictly is
 * ignored, so a client can never pick its own rate-limit identity.
 * @module
 */

/** A parsed address: its family and its bits as one integer. */
interface Address {
  readonly v6: boolean;
  readonly bits: bigint;
}

/** An address block. */
export interface Cidr {
  readonly v6: boolean;
  readonly bits: bigint;
  readonly prefix: number;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseV4(text: string): bigint | null {
  if (!V4.test(text)) return null;
  return text.split(".").reduce((acc, part) => (acc << 8n) | BigInt(part), 0n);
}

function parseV6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(text) || text.split("::").length > 2) return null;
  let tail: bigint[] = [];
  let body = text;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [v4 >> 16n, v4 & 0xffffn];
    body = text.slice(0, lastColon + 1) + (text[lastColon - 1] === ":" ? "" : "0");
    if (body.endsWith(":0")) body = body.slice(0, -2);
    else if (!body.endsWith("::")) return null;
  }
  const [head, rest] = body.includes("::") ? body.split("::") as [string, string] : [body, null];
  const groups = (part: string) => part === "" ? [] : part.split(":");
  const left = groups(head);
  const right = rest === null ? [] : groups(rest);
  const missing = 8 - tail.length - left.length - right.length;
  if (rest === null ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array(rest === null ? 0 : missing).fill("0"), ...right];
  if (!all.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return null;
  return [...all.map((group) => BigInt(`0x${group}`)), ...tail].reduce((acc, group) => (acc << 16n) | group, 0n);
}

const MAPPED = 0xffff_0000_0000n;

/** Parses an IPv4 or IPv6 address (brackets allowed); IPv4-mapped IPv6 becomes IPv4. Null if invalid. */
export function parseIp(text: string): Address | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const v4 = parseV4(bare);
  if (v4 !== null) return { v6: false, bits: v4 };
  const v6 = parseV6(bare);
  if (v6 === null) return null;
  return v6 >> 32n === MAPPED >> 32n ? { v6: false, bits: v6 & 0xffff_ffffn } : { v6: true, bits: v6 };
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a single address. Null if invalid. */
export function parseCidr(text: string): Cidr | null {
  const [address, prefixText, extra] = text.trim().split("/");
  if (extra !== undefined || address === undefined) return null;
  const ip = parseIp(address);
  if (ip === null) return null;
  const width = ip.v6 ? 128 : 32;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefix > width) return null;
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { v6: ip.v6, bits: ip.bits & mask, prefix };
}

/** True when `ip` is inside one of `blocks`. */
export function inBlocks(ip: Address, blocks: readonly Cidr[]): boolean {
  return blocks.some((block) => {
    if (block.v6 !== ip.v6) return false;
    const width = block.v6 ? 128 : 32;
    return ip.bits >> BigInt(width - block.prefix) === block.bits >> BigInt(width - block.prefix);
  });
}

/** Longest `X-Forwarded-For` read, and most hops walked. */
const MAX_HEADER = 1024;
const MAX_HOPS = 16;

/**
 * The client of a request whose socket peer is `peer`, given the trusted proxies: the peer
 * itself unless it is trusted; then, walking `X-Forwarded-For` from the right, the first hop
 * that is not trusted (or the leftmost when all are). A header that is too long, has too many
 * hops or any hop that is not an address is ignored: the peer is the client.
 */
export function clientAddress(peer: string, forwarded: string | null, trusted: readonly Cidr[]): string {
  if (trusted.length === 0 || forwarded === null || forwarded.length > MAX_HEADER) return peer;
  const peerIp = parseIp(peer);
  if (peerIp === null || !inBlocks(peerIp, trusted)) return peer;
  const hops = forwarded.split(",").map((hop) => hop.trim());
  if (hops.length > MAX_HOPS) return peer;
  const parsed = hops.map(parseIp);
  if (parsed.some((ip) => ip === null)) return peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!inBlocks(parsed[i]!, trusted) || i === 0) return hops[i]!.replace(/^\[|\]$/g, "");
  }
  return peer;
}
