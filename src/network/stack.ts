/**
 * The network of one running container, as its parent (the CLI in a
 * foreground run, the monitor otherwise) starts and stops it: called after
 * the clone, before init is released, so the command starts with its
 * interface up and its ports published. What was set up is recorded in the
 * runtime directory for `inspect`.
 */
import { goMap } from "../runtime/gomap.ts";
import { SLIRP_GATEWAY, SLIRP_IP } from "./etc.ts";
import { hasStack, type NetworkAttachment, type NetworkMode } from "./mode.ts";
import { startPasta, stopPasta } from "./pasta.ts";
import { type PortMapping, portsDoc } from "./ports.ts";
import { startSlirp, stopSlirp } from "./slirp.ts";
import { startUdpProxy, type UdpProxy } from "./udp_proxy.ts";
import type { Attached } from "./holder.ts";

/** What a running container's network looks like from the outside. */
export interface NetworkInfo {
  kind: NetworkMode["kind"];
  ipAddress: string;
  gateway: string;
  prefixLen: number;
  ports: PortMapping[];
  /** On named networks: what it got on each. */
  networks?: Attached[];
}

/**
 * A started network; `stop()` frees its ports (safe to call twice); with
 * `all`, it also waits until the helpers are gone (their interfaces with
 * them), for a network made again at once in the same namespace.
 */
export interface NetworkHandle {
  info: NetworkInfo;
  stop(all?: boolean): Promise<void>;
}

/** How to network one container. */
export interface NetworkOptions {
  mode: NetworkMode;
  /** Host ports already picked (see reservePorts). */
  ports: PortMapping[];
  /** The container's runtime directory: API socket, logs, network.json. */
  runDir: string;
  /**
   * On named networks: what it gets on each (attach.ts), wired while the
   * stack starts.
   */
  attached?: Promise<Attached[]>;
  /** On internal networks only: no way out, so no slirp4netns. */
  internalOnly?: boolean;
}

const INFO_FILE = "network.json";

/** The host's first non-loopback IPv4 address: what pasta copies. */
function hostAddress(): { ip: string; prefixLen: number } {
  const nic = Deno.networkInterfaces().find((n) =>
    n.family === "IPv4" && !n.address.startsWith("127.")
  );
  return {
    ip: nic?.address ?? "",
    prefixLen: Number(nic?.cidr.split("/")[1] ?? 0),
  };
}

function infoFor(
  mode: NetworkMode,
  ports: PortMapping[],
  attached?: Attached[],
): NetworkInfo {
  if (attached && attached.length > 0) {
    const [a] = attached;
    return {
      kind: mode.kind,
      ipAddress: a.ip,
      gateway: a.gateway,
      prefixLen: a.prefixLen,
      ports,
      networks: attached,
    };
  }
  if (mode.kind === "slirp4netns") {
    return {
      kind: mode.kind,
      ipAddress: SLIRP_IP,
      gateway: SLIRP_GATEWAY,
      prefixLen: 24,
      ports,
    };
  }
  if (mode.kind === "pasta") {
    const { ip, prefixLen } = hostAddress();
    return { kind: mode.kind, ipAddress: ip, gateway: "", prefixLen, ports };
  }
  return { kind: mode.kind, ipAddress: "", gateway: "", prefixLen: 0, ports };
}

/**
 * Connects the network namespace of `pid` as `opts.mode` asks and publishes
 * the ports. Throws PortInUseError when a host port was taken meanwhile.
 */
export async function startNetwork(
  pid: number,
  opts: NetworkOptions,
): Promise<NetworkHandle> {
  const { mode, ports, runDir } = opts;
  // On named networks, pasta carries the way out and the ports: its TCP
  // forwarding splices, several times slirp4netns's throughput.
  const stack = mode.kind === "bridge"
    ? (opts.internalOnly ? "none" : "pasta")
    : mode.kind;
  // UDP replies to a client on the host's loopback get lost in libslirp
  // (unless it may reach the host's loopback) and in the packaged pasta:
  // those ports go through ptd's proxy, to the container's own address.
  const proxied = (stack === "slirp4netns" && !mode.allowHostLoopback) ||
      (stack === "pasta" && mode.kind === "bridge")
    ? ports.filter((m) => m.protocol === "udp")
    : [];
  const forwarded = ports.filter((m) => !proxied.includes(m));
  let stopStack = (_all: boolean) => Promise.resolve();
  // Until it is awaited below, a failed attach must not go unhandled.
  opts.attached?.catch(() => {});
  if (stack === "slirp4netns") {
    const h = await startSlirp(pid, mode, forwarded, runDir);
    stopStack = () => stopSlirp(h, runDir);
  } else if (stack === "pasta") {
    // The veths are eth0, eth1...: pasta's interface keeps out of their way.
    const p = await startPasta(pid, mode, forwarded, runDir, "tap0");
    stopStack = (all) => stopPasta(p, all || forwarded.length > 0);
  }
  let attached: Attached[] | undefined;
  try {
    attached = await opts.attached;
  } catch (e) {
    await stopStack(false);
    throw e;
  }
  if (proxied.length > 0) {
    let proxy: UdpProxy;
    try {
      proxy = await startUdpProxy(
        pid,
        proxied,
        attached?.[0]?.ip ?? SLIRP_IP,
      );
    } catch (e) {
      await stopStack(false);
      throw e;
    }
    const stopOnly = stopStack;
    stopStack = async (all) => {
      await proxy.stop();
      await stopOnly(all);
    };
  }
  const info = infoFor(mode, hasStack(mode) ? ports : [], attached);
  const infoPath = `${runDir}/${INFO_FILE}`;
  Deno.writeTextFileSync(infoPath, JSON.stringify(info));
  let stopped: Promise<void> | undefined;
  return {
    info,
    stop(all = false) {
      stopped ??= stopStack(all).finally(() => {
        try {
          Deno.removeSync(infoPath);
        } catch { /* the runtime dir is gone already */ }
      });
      return stopped;
    },
  };
}

/** The network of a running container, from its runtime directory. */
export function readNetworkInfo(runDir: string): NetworkInfo | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(`${runDir}/${INFO_FILE}`));
  } catch {
    return undefined;
  }
}

/** The address fields Docker's NetworkSettings and each network share. */
function addressDoc(a: Partial<Attached> = {}) {
  return {
    EndpointID: "",
    Gateway: a.gateway ?? "",
    IPAddress: a.ip ?? "",
    IPPrefixLen: a.prefixLen ?? 0,
    IPv6Gateway: a.ipv6Gateway ?? "",
    GlobalIPv6Address: a.ipv6 ?? "",
    GlobalIPv6PrefixLen: a.ipv6PrefixLen ?? 0,
    MacAddress: a.mac ?? "",
  };
}

/**
 * Docker's NetworkSettings for `inspect`: the ports the container publishes
 * and, while it runs, its address.
 */
export function networkSettings(
  ports: PortMapping[],
  runDir: string,
  running: boolean,
  networks?: NetworkAttachment[],
): Record<string, unknown> {
  // A monitor killed outright leaves the file behind: trust it only live.
  const info = running ? readNetworkInfo(runDir) : undefined;
  // Podman's keys and order. Networks (no named networks here) is an
  // empty map to a template and absent from JSON, as in Podman.
  const doc = {
    ...addressDoc({
      ...info?.networks?.[0],
      gateway: info?.gateway,
      ip: info?.ipAddress,
      prefixLen: info?.prefixLen,
    }),
    Bridge: "",
    SandboxID: "",
    HairpinMode: false,
    LinkLocalIPv6Address: "",
    LinkLocalIPv6PrefixLen: 0,
    Ports: goMap(portsDoc(ports)),
    SandboxKey: "",
  };
  if (networks && networks.length > 0) {
    const got = new Map(info?.networks?.map((a) => [a.network, a]));
    return {
      ...doc,
      Networks: goMap(Object.fromEntries(networks.map((n) => {
        const a = got.get(n.name);
        return [n.name, {
          ...addressDoc(a),
          NetworkID: n.name,
          DriverOpts: null,
          IPAMConfig: null,
          Links: null,
          Aliases: n.aliases,
        }];
      }))),
    };
  }
  return Object.defineProperty(doc, "Networks", { value: goMap({}) });
}
