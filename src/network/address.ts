/**
 * IPv4 and IPv6 addresses and subnets as numbers (bigint, so both fit),
 * for the networks' subnets, gateways and leases. Text comes out as Go's
 * net.IP prints it (IPv6: lower case, the longest run of two or more zero
 * groups as "::"), so records read as Podman's.
 */
import { invalid } from "../runtime/errors.ts";

/** An address: its family and value. */
export interface Ip {
  v6: boolean;
  n: bigint;
}

/** A subnet: its first address, prefix length and family. */
export interface Cidr {
  v6: boolean;
  base: bigint;
  prefix: number;
}

const bits = (v6: boolean) => (v6 ? 128 : 32);

function parseV4(text: string): bigint | undefined {
  const p = text.split(".");
  if (p.length !== 4 || !p.every((x) => /^\d{1,3}$/.test(x) && +x < 256)) {
    return undefined;
  }
  return p.reduce((n, x) => n * 256n + BigInt(x), 0n);
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): bigint[] | undefined => {
    if (s === "") return [];
    const out: bigint[] = [];
    const parts = s.split(":");
    for (const [i, g] of parts.entries()) {
      // An embedded IPv4 address may end it (::ffff:10.0.0.1).
      if (i === parts.length - 1 && g.includes(".")) {
        const v4 = parseV4(g);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(BigInt(`0x${g}`));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]), tail = groups(halves[1] ?? "");
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const all = [
    ...head,
    ...Array(halves.length === 1 ? 0 : fill).fill(0n),
    ...tail,
  ];
  return all.reduce((n, g) => (n << 16n) | g, 0n);
}

/** Reads an address of either family; undefined if it is none. */
export function readIp(text: string): Ip | undefined {
  const v4 = parseV4(text);
  if (v4 !== undefined) return { v6: false, n: v4 };
  const v6 = text.includes(":") ? parseV6(text) : undefined;
  return v6 === undefined ? undefined : { v6: true, n: v6 };
}

/** Reads an address; an invalid one is Podman's error. */
export function parseIp(text: string): Ip {
  const ip = readIp(text);
  if (!ip) throw invalid(`${JSON.stringify(text)} is not an IP address`);
  return ip;
}

/** An address as text. */
export function formatIp(n: bigint, v6: boolean): string {
  if (!v6) {
    return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
  }
  const g = [...Array(8)].map((_, i) => (n >> BigInt(112 - 16 * i)) & 0xffffn);
  // The longest run of zero groups (two or more, the first such) is "::".
  let at = -1, len = 0;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && g[j] === 0n) j++;
    if (j - i > len && j - i >= 2) [at, len] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (xs: bigint[]) => xs.map((x) => x.toString(16)).join(":");
  return at < 0 ? hex(g) : `${hex(g.slice(0, at))}::${hex(g.slice(at + len))}`;
}

/**
 * A subnet in CIDR form; its base is the network address. IPv4 prefixes
 * run from 8 to 30, IPv6 from 8 to 126: each leaves room for a gateway and
 * a container.
 */
export function parseCidr(cidr: string): Cidr {
  const [ip, len] = cidr.split("/");
  const addr = readIp(ip);
  const prefix = Number(len);
  if (
    !addr || !/^\d+$/.test(len ?? "") || prefix < 8 ||
    prefix > bits(addr.v6) - 2
  ) {
    throw invalid(`invalid CIDR address: ${cidr}`);
  }
  const size = 1n << BigInt(bits(addr.v6) - prefix);
  return { v6: addr.v6, base: addr.n - (addr.n % size), prefix };
}

/** The number of addresses in `c`. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bits(c.v6) - c.prefix);
}

/** The subnet as text: network address and prefix. */
export function cidrText(c: Cidr): string {
  return `${formatIp(c.base, c.v6)}/${c.prefix}`;
}

/** Whether `ip` lies in `cidr` (and is of its family). */
export function inSubnet(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const a = readIp(ip);
  return !!a && a.v6 === c.v6 && a.n >= c.base && a.n < c.base + cidrSize(c);
}

/** Whether two subnets share an address. */
export function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a), y = parseCidr(b);
  return x.v6 === y.v6 && x.base < y.base + cidrSize(y) &&
    y.base < x.base + cidrSize(x);
}

/** Whether a subnet (or address) in text is IPv6. */
export function isV6(text: string): boolean {
  return text.includes(":");
}
