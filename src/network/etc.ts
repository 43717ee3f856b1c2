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
  if (mode.kind === "slirp4netns") return SLIRP_DNS;
  if (mode.kind === "pasta") return PASTA_DNS;
}

/**
 * resolv.conf for the container: the user's --dns servers, else the stack's
 * resolver, else the host's; search and options from the flags, else the
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
  const servers = dns.servers.length > 0
    ? dns.servers
    : stack
    ? [stack]
    : keyed("nameserver");
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

/** Checks one --add-host value, "NAME:IP" (IPv6 allowed after the first colon). */
export function parseAddHost(item: string): { name: string; ip: string } {
  const i = item.indexOf(":");
  const name = item.slice(0, i), ip = item.slice(i + 1);
  if (i <= 0 || !/^[0-9a-fA-F.:]+$/.test(ip) || /\s/.test(name)) {
    throw invalid(`invalid --add-host ${JSON.stringify(item)}: want NAME:IP`);
  }
  return { name, ip };
}

/** /etc/hosts lines for the --add-host values. */
export function addHostLines(items: string[]): string[] {
  return items.map(parseAddHost).map(({ name, ip }) => `${ip}\t${name}`);
}
