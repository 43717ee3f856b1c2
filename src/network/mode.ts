/**
 * `--network` values: which network a container gets and how the user-mode
 * stacks are tuned.
 */
import { invalid } from "../runtime/errors.ts";

/** The user-mode stack a rootless container gets when nothing is asked. */
export const DEFAULT_STACK = "slirp4netns";

/** A parsed `--network` value. */
export interface NetworkMode {
  /**
   * slirp4netns/pasta: own namespace joined to the host by that stack;
   * none: own namespace with only `lo`; host: the host's namespace;
   * container/ns: the namespace of another container, or of a file.
   */
  kind:
    | "slirp4netns"
    | "pasta"
    | "none"
    | "host"
    | "container"
    | "ns"
    | "bridge";
  /** container: the other container's name or id; ns: the file's path. */
  target?: string;
  /** Let the container reach the host's 127.0.0.1 (off by default). */
  allowHostLoopback: boolean;
  /** MTU of the container's interface; 0 keeps the stack's default. */
  mtu: number;
  /** bridge: the named networks the container is on, in order. */
  networks?: NetworkAttachment[];
}

/** A container on one named network: `--network NAME:alias=A,ip=IP`. */
export interface NetworkAttachment {
  name: string;
  aliases: string[];
  /** A static address (either family); absent, the network picks one. */
  ip?: string;
  /** A static IPv6 address (--ip6, ip6=), beside an IPv4 one in `ip`. */
  ip6?: string;
  mac?: string;
}

const BUILTIN = ["", "private", "slirp4netns", "pasta", "none", "host"];

/** Whether a --network value names a network rather than a mode. */
function namesNetwork(value: string): boolean {
  const name = value.split(":", 1)[0];
  return !BUILTIN.includes(name) && name !== "container" && name !== "ns";
}

/**
 * One --network value may name several networks, "a,b:alias=x,ip=y"
 * (podman-compose joins them so): a part that starts KEY= continues the options
 * of the network before it.
 */
function splitNames(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    if (/^[a-z_]+=/.test(part) && out.length > 0) {
      out[out.length - 1] += `,${part}`;
    } else out.push(part);
  }
  return out;
}

function parseAttachment(value: string): NetworkAttachment {
  const [given, opts = ""] = value.split(/:(.*)/s, 2);
  // Docker's and Podman's name of the default network.
  const name = given === "bridge" ? "podman" : given;
  const a: NetworkAttachment = { name, aliases: [] };
  for (const o of opts ? opts.split(",") : []) {
    const [key, v = ""] = o.split("=", 2);
    if (key === "alias" && v) a.aliases.push(v);
    else if (key === "ip" && v) a.ip = v;
    else if (key === "ip6" && v) a.ip6 = v;
    else if (key === "mac" && v) a.mac = v;
    else throw invalid(`unknown network option ${JSON.stringify(o)}`);
  }
  return a;
}

/** The flags that go with --network for a container on named networks. */
export interface AttachmentFlags {
  aliases?: string[];
  ip?: string;
  ip6?: string;
  mac?: string;
}

/**
 * Parses every --network value of run/create: one mode, or one or more
 * network names (`bridge` is the default network, `podman`), each with
 * its options; --network-alias, --ip and --mac-address apply to a single
 * named network.
 */
export function parseNetworks(
  values: string[],
  flags: AttachmentFlags = {},
): NetworkMode {
  const named = values.filter(namesNetwork).flatMap(splitNames);
  const extra = (flags.aliases ?? []).length > 0 || flags.ip || flags.ip6 ||
    flags.mac;
  if (named.length === 0) {
    if (values.length > 1) {
      throw invalid(`--network ${values[1]}: only one network mode is allowed`);
    }
    if (extra) {
      throw invalid(
        "--network-alias, --ip, --ip6 and --mac-address need a network (--network NAME)",
      );
    }
    return parseNetworkMode(values[0] ?? "");
  }
  if (values.some((v) => !namesNetwork(v))) {
    throw invalid(
      `--network ${values.join(", ")}: a mode cannot go with named networks`,
    );
  }
  const networks = named.map(parseAttachment);
  if (extra) {
    if (networks.length > 1) {
      throw invalid(
        "--network-alias, --ip, --ip6 and --mac-address go with one network only: use --network NAME:alias=A,ip=IP",
      );
    }
    networks[0].aliases.push(...flags.aliases ?? []);
    if (flags.ip) networks[0].ip = flags.ip;
    if (flags.ip6) networks[0].ip6 = flags.ip6;
    if (flags.mac) networks[0].mac = flags.mac;
  }
  return { kind: "bridge", allowHostLoopback: false, mtu: 0, networks };
}

function parseStackOptions(kind: "slirp4netns" | "pasta", opts: string) {
  const mode: NetworkMode = { kind, allowHostLoopback: false, mtu: 0 };
  for (const o of opts ? opts.split(",") : []) {
    const [key, value = ""] = o.split("=", 2);
    if (key === "allow_host_loopback" && ["true", "false"].includes(value)) {
      mode.allowHostLoopback = value === "true";
    } else if (key === "mtu" && /^\d+$/.test(value)) {
      mode.mtu = Number(value);
    } else {
      throw invalid(`unsupported ${kind} option ${JSON.stringify(o)}`);
    }
  }
  return mode;
}

/**
 * Parses `--network`: `slirp4netns[:allow_host_loopback=true,mtu=N]`,
 * `pasta[:...]`, `none`, `host`, `container:NAME|ID`, `ns:PATH`; `private`
 * (and "") mean the default stack.
 */
export function parseNetworkMode(value: string): NetworkMode {
  const [name, opts = ""] = value.split(/:(.*)/s, 2);
  switch (name) {
    case "":
    case "private":
      if (opts) break;
      return parseStackOptions(DEFAULT_STACK, "");
    case "slirp4netns":
    case "pasta":
      return parseStackOptions(name, opts);
    case "none":
    case "host":
      if (opts) break;
      return { kind: name, allowHostLoopback: false, mtu: 0 };
    case "container":
      if (!opts) {
        throw invalid(`--network container: needs a container name or id`);
      }
      return { kind: name, target: opts, allowHostLoopback: false, mtu: 0 };
    case "ns":
      if (!opts.startsWith("/")) {
        throw invalid(
          `--network ${value}: want ns:PATH with an absolute path`,
        );
      }
      return { kind: name, target: opts, allowHostLoopback: false, mtu: 0 };
  }
  throw invalid(`unsupported --network ${JSON.stringify(value)}`);
}

/** Whether the container gets a network namespace of its own. */
export function privateNetwork(mode: NetworkMode): boolean {
  return mode.kind !== "host";
}

/** Whether the container enters a network namespace that exists already. */
export function joinsNetwork(mode: NetworkMode): boolean {
  return mode.kind === "container" || mode.kind === "ns";
}

/**
 * Whether a user-mode stack runs beside the container (on named networks,
 * pasta: it carries the traffic to the outside and published ports,
 * unless every network is internal, see network/stack.ts).
 */
export function hasStack(mode: NetworkMode): boolean {
  return mode.kind === "slirp4netns" || mode.kind === "pasta" ||
    mode.kind === "bridge";
}
