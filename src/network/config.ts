/**
 * User-defined networks: one JSON file per network in the store, in the
 * shape Podman's `network inspect` prints (netavark's), so that inspect is
 * the file itself. The default network `podman` is never stored: like
 * Podman, ptd makes it up on each read.
 */
import { invalid, notFound, PtdError } from "../runtime/errors.ts";
import {
  cidrSize,
  cidrText,
  formatIp,
  inSubnet,
  isV6,
  overlaps,
  parseCidr,
} from "./address.ts";
import { readJsonDir, withLock, writeJsonAtomic } from "../storage/json.ts";
import { ensureDir, type StorePaths } from "../storage/paths.ts";

/** One subnet of a network. */
export interface Subnet {
  subnet: string;
  gateway?: string;
  lease_range?: { start_ip: string; end_ip: string };
}

/** A network, as Podman's inspect shows it. */
export interface NetworkRecord {
  name: string;
  id: string;
  driver: "bridge";
  network_interface: string;
  created: string;
  subnets: Subnet[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ipam_options: { driver: string };
}

/** The name and subnet of the default network, as Podman has them. */
export const DEFAULT_NETWORK = "podman";
const DEFAULT_SUBNET = "10.88.0.0/16";

/** What `network create` asks for. */
export interface NetworkCreateRequest {
  name?: string;
  /**
   * --subnet, --gateway, --ip-range: the n-th gateway and range go with
   * the n-th subnet ("" for none).
   */
  subnet?: string[];
  gateway?: string[];
  ipRange?: string[];
  internal?: boolean;
  disableDns?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ipv6?: boolean;
  /** --ignore: an existing network of that name is no error. */
  ignore?: boolean;
}

/** A 64-hex id; Podman's default network's id is sha256("podman"). */
async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Network names: Podman's rule, as for containers (network/ stays clear of container/). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The networks of one store. */
export class NetworkStore {
  readonly dir: string;

  constructor(readonly paths: StorePaths) {
    this.dir = `${paths.data}/networks`;
  }

  #path(name: string) {
    return `${this.dir}/${name}.json`;
  }

  /** The default network, made up as Podman does (created: now). */
  defaultNetwork(): NetworkRecord {
    return {
      name: DEFAULT_NETWORK,
      id: "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
      driver: "bridge",
      network_interface: "podman0",
      created: new Date().toISOString(),
      subnets: [{ subnet: DEFAULT_SUBNET, gateway: "10.88.0.1" }],
      ipv6_enabled: false,
      internal: false,
      dns_enabled: false,
      ipam_options: { driver: "host-local" },
    };
  }

  /** Every network, the default one included, by name. */
  list(): NetworkRecord[] {
    const stored = readJsonDir<NetworkRecord>(this.dir);
    const all = stored.some((n) => n.name === DEFAULT_NETWORK)
      ? stored
      : [...stored, this.defaultNetwork()];
    return all.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A network by name, full id or unique id prefix. */
  find(ref: string): NetworkRecord {
    const all = this.list();
    const byName = all.find((n) => n.name === ref);
    if (byName) return byName;
    const byId = /^[0-9a-f]+$/.test(ref)
      ? all.filter((n) => n.id.startsWith(ref))
      : [];
    if (byId.length === 1) return byId[0];
    if (byId.length > 1) {
      throw invalid(`more than one result for network ID ${ref}`);
    }
    throw notFound(
      `unable to find network with name or ID ${ref}: network not found`,
    );
  }

  /** Whether `ref` names a network. */
  exists(ref: string): boolean {
    try {
      this.find(ref);
      return true;
    } catch {
      return false;
    }
  }

  /** Creates a network; returns its record. */
  create(req: NetworkCreateRequest): Promise<NetworkRecord> {
    ensureDir(this.dir);
    return withLock(`${this.dir}/.lock`, async () => {
      const all = this.list();
      const name = req.name ?? this.#freeName(all);
      if (!NAME.test(name)) {
        throw invalid(
          `network name ${name} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`,
        );
      }
      const same = all.find((n) => n.name === name);
      if (same) {
        if (req.ignore) return same;
        throw new PtdError(
          "conflict",
          `network name ${name} already used: network already exists`,
        );
      }
      const subnets = this.#subnets(req, all);
      const r: NetworkRecord = {
        name,
        id: await sha256Hex(`${name}${crypto.randomUUID()}`),
        driver: "bridge",
        network_interface: this.#freeBridge(all),
        created: new Date().toISOString(),
        subnets,
        ipv6_enabled: subnets.some((x) => isV6(x.subnet)),
        internal: !!req.internal,
        dns_enabled: !req.disableDns,
        ...(req.labels && Object.keys(req.labels).length > 0
          ? { labels: req.labels }
          : {}),
        ...(req.options && Object.keys(req.options).length > 0
          ? { options: req.options }
          : {}),
        ipam_options: { driver: "host-local" },
      };
      writeJsonAtomic(this.#path(name), r);
      return r;
    });
  }

  #freeName(all: NetworkRecord[]): string {
    for (let i = 1;; i++) {
      const n = `podman${i}`;
      if (!all.some((x) => x.name === n)) return n;
    }
  }

  #freeBridge(all: NetworkRecord[]): string {
    for (let i = 1;; i++) {
      const n = `podman${i}`;
      if (!all.some((x) => x.network_interface === n)) return n;
    }
  }

  /**
   * The subnets of a new network, as Podman picks them: those asked for,
   * else a free 10.89.N.0/24; with --ipv6, dual stack, the missing family
   * added (IPv6: a random ULA /64, RFC 4193).
   */
  #subnets(req: NetworkCreateRequest, all: NetworkRecord[]): Subnet[] {
    const given = req.subnet ?? [];
    const gateways = req.gateway ?? [], ranges = req.ipRange ?? [];
    if (given.length === 0 && (gateways.length > 0 || ranges.length > 0)) {
      throw invalid("cannot set gateway or range without subnet");
    }
    if (gateways.length > given.length) {
      throw invalid("cannot set more gateways than subnets");
    }
    if (ranges.length > given.length) {
      throw invalid("cannot set more ranges than subnets");
    }
    const used = all.flatMap((n) => n.subnets.map((s) => s.subnet));
    const out: Subnet[] = [];
    for (const [i, s] of given.entries()) {
      const subnet = cidrText(parseCidr(s));
      if (
        [...used, ...out.map((x) => x.subnet)].some((u) => overlaps(u, subnet))
      ) {
        throw invalid(
          `subnet ${subnet} is already used on the host or by another config`,
        );
      }
      out.push(
        subnetOf(subnet, gateways[i] || undefined, ranges[i] || undefined),
      );
    }
    // An IPv6 subnet alone makes an IPv6-only network; --ipv6 dual stack.
    if (out.length === 0 || (req.ipv6 && !out.some((x) => !isV6(x.subnet)))) {
      out.push(subnetOf(freeV4(used)));
    }
    if (req.ipv6 && !out.some((x) => isV6(x.subnet))) {
      out.push(subnetOf(randomUla()));
    }
    return out;
  }

  /** Removes a stored network (the default one cannot go). */
  remove(name: string): void {
    if (name === DEFAULT_NETWORK) {
      throw invalid(`default network ${name} cannot be removed`);
    }
    Deno.removeSync(this.#path(name));
  }
}

/** The first 10.89.N.0/24 that no network uses. */
function freeV4(used: string[]): string {
  for (let i = 0; i < 256; i++) {
    const s = `10.89.${i}.0/24`;
    if (!used.some((u) => overlaps(u, s))) return s;
  }
  throw invalid("no free subnet left");
}

/** A random unique local /64 (fdXX:XXXX:XXXX:XXXX::/64), as Podman makes one. */
function randomUla(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  b[0] = 0xfd;
  const n = b.reduce((n, x) => (n << 8n) | BigInt(x), 0n) << 64n;
  return `${formatIp(n, true)}/64`;
}

/**
 * One subnet: its gateway (the first address unless given) and lease
 * range (--ip-range: its first address but one to its last, without the
 * broadcast address on IPv4).
 */
function subnetOf(subnet: string, gw?: string, range?: string): Subnet {
  const c = parseCidr(subnet);
  const gateway = gw ?? formatIp(c.base + 1n, c.v6);
  if (!inSubnet(gateway, subnet)) {
    throw invalid(`gateway ${gateway} not in subnet ${subnet}`);
  }
  const out: Subnet = { subnet, gateway };
  if (range) {
    const r = parseCidr(range);
    const end = r.base + cidrSize(r) - (r.v6 ? 1n : 2n);
    const first = formatIp(r.base + 1n, r.v6);
    if (!inSubnet(first, subnet) || !inSubnet(formatIp(end, r.v6), subnet)) {
      throw invalid(`ip range ${range} not in subnet ${subnet}`);
    }
    out.lease_range = { start_ip: first, end_ip: formatIp(end, r.v6) };
  }
  return out;
}

/** A network's subnet of one family, if it has one. */
export function subnetOfFamily(
  rec: NetworkRecord,
  v6: boolean,
): Subnet | undefined {
  return rec.subnets.find((s) => isV6(s.subnet) === v6);
}
