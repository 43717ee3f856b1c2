/**
 * The DNS messages ptd's network DNS server reads and writes (RFC 1035):
 * it answers A and AAAA questions for the names of containers on one
 * network from its own table, and hands every other question on as it came.
 */
import { parseIp } from "./address.ts";

/** The question of a query. */
export interface Question {
  id: number;
  /** Lower case, without the trailing dot. */
  name: string;
  type: number;
  /** Offset just past the question: where answers go. */
  end: number;
}

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
const RCODE_NXDOMAIN = 3;

/** The search domain Podman's resolv.conf names; its names are ours. */
export const DNS_DOMAIN = "dns.podman";

/** Reads the first question of a query; undefined for anything else. */
export function parseQuery(msg: Uint8Array): Question | undefined {
  if (msg.length < 12) return undefined;
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  // A response, or no question: nothing to answer.
  if ((msg[2] & 0x80) !== 0 || v.getUint16(4) < 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    if (i >= msg.length) return undefined;
    const len = msg[i++];
    if (len === 0) break;
    if (len > 63 || i + len > msg.length) return undefined;
    labels.push(new TextDecoder().decode(msg.subarray(i, i + len)));
    i += len;
  }
  if (i + 4 > msg.length) return undefined;
  return {
    id: v.getUint16(0),
    name: labels.join(".").toLowerCase(),
    type: v.getUint16(i),
    end: i + 4,
  };
}

/** A container name as the table holds it: no search domain, no dot. */
export function tableName(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, "");
  return n.endsWith(`.${DNS_DOMAIN}`) ? n.slice(0, -DNS_DOMAIN.length - 1) : n;
}

/**
 * The answer to `q` (from `query`) with those of `addresses` (IPv4 and
 * IPv6) the question's type asks for; none and `known` false is NXDOMAIN,
 * none and `known` true an empty answer (a container without IPv6 asked
 * for AAAA).
 */
export function answer(
  query: Uint8Array,
  q: Question,
  addresses: string[],
  known: boolean,
): Uint8Array {
  const ips = q.type === TYPE_A || q.type === TYPE_AAAA
    ? addresses.map((a) => parseIp(a)).filter((a) =>
      a.v6 === (q.type === TYPE_AAAA)
    )
    : [];
  const size = q.type === TYPE_AAAA ? 16 : 4;
  const out = new Uint8Array(q.end + ips.length * (12 + size));
  out.set(query.subarray(0, q.end));
  const v = new DataView(out.buffer);
  // QR, opcode and RD as asked, RA; no authority or extra records.
  const rd = query[2] & 0x01;
  v.setUint16(2, 0x8080 | (rd << 8) | (known ? 0 : RCODE_NXDOMAIN));
  v.setUint16(4, 1);
  v.setUint16(6, ips.length);
  v.setUint16(8, 0);
  v.setUint16(10, 0);
  let o = q.end;
  for (const ip of ips) {
    v.setUint16(o, 0xc00c); // the name: a pointer to the question's
    v.setUint16(o + 2, q.type);
    v.setUint16(o + 4, 1); // IN
    v.setUint32(o + 6, 60); // TTL, as aardvark-dns
    v.setUint16(o + 10, size);
    for (let k = 0; k < size; k++) {
      out[o + 12 + k] = Number((ip.n >> BigInt(8 * (size - 1 - k))) & 255n);
    }
    o += 12 + size;
  }
  return out;
}
