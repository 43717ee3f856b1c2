/**
 * A container on named networks, as its parent drives it: before the
 * clone, a connection to the holder (whose user namespace the container
 * joins); once the container's namespaces exist, its veths and addresses
 * on every network, and the /etc/hosts and /etc/resolv.conf that go with
 * them. Closing the connection takes the container off the networks.
 */
import type { StorePaths } from "../storage/paths.ts";
import { isV6 } from "./address.ts";
import { type NetworkRecord, NetworkStore } from "./config.ts";
import { DNS_DOMAIN } from "./dns.ts";
import { type DnsConfig, resolvConf } from "./etc.ts";
import type { Attached } from "./holder.ts";
import { connectHolder, type HolderConnection } from "./holder_client.ts";
import type { NetworkAttachment, NetworkMode } from "./mode.ts";

/** A container's membership of its networks, for one run. */
export class Membership {
  private constructor(
    readonly holder: HolderConnection,
    readonly records: NetworkRecord[],
    readonly wanted: NetworkAttachment[],
    readonly had: Attached[],
  ) {}

  /**
   * Looks the networks up and connects to the holder. When a running
   * container's networking is made again (network reload): the holder of
   * its user namespace, `userns`, and `had`, what it had, whose addresses
   * it keeps where they are free.
   */
  static async open(
    paths: StorePaths,
    wanted: NetworkAttachment[],
    again?: { userns: string; had: Attached[] },
  ): Promise<Membership> {
    const store = new NetworkStore(paths);
    const records = wanted.map((w) => store.find(w.name));
    return new Membership(
      await connectHolder(paths.runtime, again?.userns),
      records,
      wanted,
      again?.had ?? [],
    );
  }

  /** The user namespace the container must be born in. */
  get userns(): string {
    return this.holder.userns;
  }

  /** Whether no network leads outside: then no slirp4netns either. */
  get internalOnly(): boolean {
    return this.records.every((r) => r.internal);
  }

  /** Wires the container of `pid` to its networks. */
  async attach(pid: number, id: string, names: string[]): Promise<Attached[]> {
    const r = await this.holder.request<{ attached: Attached[] }>({
      op: "attach",
      id,
      names: dnsNames(id, names),
      pid,
      owner: true,
      networks: this.wanted.map((w, i) => ({
        network: this.records[i],
        aliases: w.aliases,
        ip: w.ip,
        ip6: w.ip6,
        mac: w.mac ?? this.had.find((a) => a.network === w.name)?.mac,
        prefer: this.had.filter((a) => a.network === w.name)
          .flatMap((a) => [a.ip, a.ipv6 ?? ""]).filter((x) => x),
      })),
    });
    return r.attached;
  }

  /** Takes the container off its networks. */
  close() {
    this.holder.close();
  }
}

/** The names a container answers to in DNS: its names and short id. */
export function dnsNames(id: string, names: string[]): string[] {
  return [...new Set([...names, id.slice(0, 12)].map((n) => n.toLowerCase()))];
}

/** resolv.conf on named networks: their DNS servers first, as Podman. */
export function networkResolvConf(
  records: NetworkRecord[],
  mode: NetworkMode,
  hostText: string,
  dns: DnsConfig,
): string {
  // Each gateway of theirs answers, IPv4 first.
  const servers = records.filter((r) => r.dns_enabled)
    .flatMap((r) => r.subnets.map((s) => s.gateway!))
    .sort((a, b) => Number(isV6(a)) - Number(isV6(b)));
  if (dns.servers.length > 0 || servers.length === 0) {
    return resolvConf(mode, hostText, dns);
  }
  const hostSearch = hostText.split("\n").map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === "search").flatMap((f) => f.slice(1));
  return resolvConf(mode, hostText, {
    servers,
    search: [DNS_DOMAIN, ...(dns.search.length > 0 ? dns.search : hostSearch)],
    options: dns.options,
  });
}

/**
 * /etc/hosts with the container's own line pointing at its address on
 * its first network (the line was written before the address was known).
 */
export function hostsWithAddress(text: string, ip: string): string {
  const lines = text.split("\n");
  const last = lines.length - 2;
  if (last >= 0) {
    lines[last] = lines[last].replace(/^[^\t]*\t/, `${ip}\t`);
  }
  return lines.join("\n");
}
