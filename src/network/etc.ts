/**
 * The container's /etc/resolv.conf and extra /etc/hosts lines, from the
 * network mode and the --dns, --dns-search, --dns-option and --add-host
 * flags.
 */
import { invalid } from "../runtime/errors.ts";
import type { NetworkMode } from "./mode.ts";

/** Addresses the user-mode stacks answer on inside the container. */
export const SLIRP_IP = "10.0.2.100";
export const SLIRP_GATEWAY = "10.0.2.2";
export const SLIRP_DNS = "10.0.2.3";
/** pasta forwards DNS sent here to the host's resolver (Podman's choice). */
export const PASTA_DNS = "169.254.1.1";

/** The DNS flags of run/create; empty lists keep what the host has. */
export interface DnsConfig {
  servers: string[];
  search: string[];
  options: string[];
}

/** The resolver the container should ask, given its network mode. */
function stackResolver(mode: NetworkMode): string | undefined {
  // Containers on named networks go out through pasta too.
  if (mode.kind === "pasta" || mode.kind === "bridge") return PASTA_DNS;
}

/**
 * resolv.conf for the container: the user's --dns servers, else the stack's
 * resolver (slirp4netns's followed by the host's), else the host's; search and options from the flags, else the
 * host's.
 */
export function resolvConf(
  mode: NetworkMode,
  hostText: string,
  dns: DnsConfig,
): string {
  const lines = hostText.split("\n").map((l) => l.trim());
  const keyed = (key: string) =>
    lines.filter((l) => l.split(/\s+/)[0] === key)
      .flatMap((l) => l.split(/\s+/).slice(1));
  const stack = stackResolver(mode);
  const hostServers = keyed("nameserver");
  const servers = dns.servers.length > 0
    ? dns.servers
    : mode.kind === "slirp4netns"
    // Podman lists the host's reachable resolvers after slirp4netns's.
    ? [SLIRP_DNS, ...hostServers.filter((s) => !isLoopback(s))]
    : stack
    ? [stack]
    : hostServers;
  const search = dns.search.length > 0 ? dns.search : keyed("search");
  const options = dns.options.length > 0 ? dns.options : keyed("options");
  return [
    ...servers.map((s) => `nameserver ${s}`),
    ...(search.length > 0 && search[0] !== "."
      ? [`search ${search.join(" ")}`]
      : []),
    ...(options.length > 0 ? [`options ${options.join(" ")}`] : []),
    "",
  ].join("\n");
}

/** A loopback resolver of the host, which no container namespace reaches. */
function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/**
 * Checks one --add-host value, "NAME:IP" (IPv6 allowed after the first
 * colon), with Podman 4.3's errors: it knows no `host-gateway` yet.
 */
export function parseAddHost(item: string): { name: string; ip: string } {
  const i = item.indexOf(":");
  if (i <= 0) {
    throw invalid(`bad format for add-host: "${item}"`);
  }
  const name = item.slice(0, i), ip = item.slice(i + 1);
  if (!isIp(ip) || /\s/.test(name)) {
    throw invalid(`invalid IP address in add-host: "${ip}"`);
  }
  return { name, ip };
}

function isIp(text: string): boolean {
  const v4 = text.split(".");
  if (v4.length === 4) {
    return v4.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
  }
  return text.includes(":") && /^[0-9a-fA-F:.]+$/.test(text);
}

/** /etc/hosts lines for the --add-host values. */
export function addHostLines(items: string[]): string[] {
  return items.map(parseAddHost).map(({ name, ip }) => `${ip}\t${name}`);
}

/** What /etc/hosts is made of. */
export interface HostsParams {
  /** --add-host values: first, so they win over everything else. */
  addHosts: string[];
  /** The base file's text (the host's /etc/hosts, as Podman's default). */
  base: string;
  /** The address of host.containers.internal; none with the host's network. */
  hostIp?: string;
  /** The container's own line: its address and names; none with the host's. */
  self?: { ip: string; names: string[] };
}

/**
 * The container's /etc/hosts in Podman's layout: --add-host entries, the
 * base file's entries, localhost if the base lacks it, then
 * host.containers.internal and the container's own names.
 */
export function hostsFile(p: HostsParams): string {
  const base = p.base.split("\n")
    .map((l) => l.replace(/#.*/, "").trim().split(/\s+/))
    .filter((f) => f.length > 1)
    .map((f) => `${f[0]}\t${f.slice(1).join(" ")}`);
  const names = (l: string) => l.split("\t")[1].split(" ");
  const lines = [...addHostLines(p.addHosts), ...base];
  if (!lines.some((l) => names(l).includes("localhost"))) {
    lines.push("127.0.0.1\tlocalhost", "::1\tlocalhost");
  }
  const taken = (n: string) => lines.some((l) => names(l).includes(n));
  if (p.hostIp && !taken("host.containers.internal")) {
    lines.push(`${p.hostIp}\thost.containers.internal`);
  }
  const own = p.self?.names.filter((n) => !taken(n)) ?? [];
  if (own.length > 0) lines.push(`${p.self!.ip}\t${own.join(" ")}`);
  return lines.map((l) => `${l}\n`).join("");
}

/** The host's first IPv4 address other than loopback, as Podman picks it. */
export function hostAddress(): string | undefined {
  return Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  )?.address;
}
