/**
 * User-defined networks: one JSON file per network in the store, in the
 * shape Podman's `network inspect` prints (netavark's), so that inspect is
 * the file itself. The default network `podman` is never stored: like
 * Podman, ptd makes it up on each read.
 */
import { invalid, notFound, PtdError } from "../runtime/errors.ts";
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
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  disableDns?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ipv6?: boolean;
  /** --ignore: an existing network of that name is no error. */
  ignore?: boolean;
}

/** An IPv4 address as a number. */
export function ipNumber(ip: string): number {
  const p = ip.split(".");
  if (p.length !== 4 || !p.every((x) => /^\d{1,3}$/.test(x) && +x < 256)) {
    throw invalid(`${JSON.stringify(ip)} is not an IPv4 address`);
  }
  return p.reduce((n, x) => n * 256 + Number(x), 0);
}

/** A number as an IPv4 address. */
export function ipText(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** A CIDR's network address and prefix length. */
export function parseCidr(cidr: string): { base: number; prefix: number } {
  const [ip, len] = cidr.split("/");
  const prefix = Number(len);
  if (!/^\d+$/.test(len ?? "") || prefix > 30 || prefix < 8) {
    throw invalid(`invalid CIDR address: ${cidr}`);
  }
  const size = 2 ** (32 - prefix);
  return { base: ipNumber(ip) - (ipNumber(ip) % size), prefix };
}

/** Whether `ip` lies in `cidr`. */
export function inSubnet(ip: string, cidr: string): boolean {
  const { base, prefix } = parseCidr(cidr);
  const n = ipNumber(ip);
  return n >= base && n < base + 2 ** (32 - prefix);
}

function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a), y = parseCidr(b);
  const end = (c: typeof x) => c.base + 2 ** (32 - c.prefix);
  return x.base < end(y) && y.base < end(x);
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
      if (req.ipv6) {
        throw invalid("--ipv6: ptd's networks have no IPv6 addresses yet");
      }
      const r: NetworkRecord = {
        name,
        id: await sha256Hex(`${name}${crypto.randomUUID()}`),
        driver: "bridge",
        network_interface: this.#freeBridge(all),
        created: new Date().toISOString(),
        subnets: [this.#subnet(req, all)],
        ipv6_enabled: false,
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

  #subnet(req: NetworkCreateRequest, all: NetworkRecord[]): Subnet {
    const used = all.flatMap((n) => n.subnets.map((s) => s.subnet));
    let subnet = req.subnet;
    if (subnet === undefined) {
      if (req.gateway || req.ipRange) {
        throw invalid("cannot set gateway or range without subnet");
      }
      for (let i = 0; i < 256 && subnet === undefined; i++) {
        const s = `10.89.${i}.0/24`;
        if (!used.some((u) => overlaps(u, s))) subnet = s;
      }
      if (subnet === undefined) throw invalid("no free subnet left");
    } else {
      const { base, prefix } = parseCidr(subnet);
      subnet = `${ipText(base)}/${prefix}`;
      const clash = all.find((n) =>
        n.subnets.some((s) => overlaps(s.subnet, subnet!))
      );
      if (clash) {
        throw invalid(
          `subnet ${subnet} is already used on the host or by another config`,
        );
      }
    }
    const gateway = req.gateway ?? ipText(parseCidr(subnet).base + 1);
    if (!inSubnet(gateway, subnet)) {
      throw invalid(`gateway ${gateway} not in subnet ${subnet}`);
    }
    const out: Subnet = { subnet, gateway };
    if (req.ipRange) {
      const r = parseCidr(req.ipRange);
      const end = r.base + 2 ** (32 - r.prefix) - 1;
      if (!inSubnet(ipText(r.base), subnet) || !inSubnet(ipText(end), subnet)) {
        throw invalid(`ip range ${req.ipRange} not in subnet ${subnet}`);
      }
      out.lease_range = {
        start_ip: ipText(r.base + 1),
        end_ip: ipText(end - 1),
      };
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
