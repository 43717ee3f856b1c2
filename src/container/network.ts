/**
 * A container's network as its parent (foreground CLI or monitor) drives it,
 * and the views of it that ps, port and inspect show.
 */
import { addHostLines } from "../network/etc.ts";
import { hasStack, parseNetworkMode } from "../network/mode.ts";
import {
  exposedMappings,
  formatPorts,
  type PortMapping,
  reservePorts,
} from "../network/ports.ts";
import {
  type NetworkHandle,
  networkSettings,
  startNetwork,
} from "../network/stack.ts";
import type { ContainerConfig, HostConfig } from "./config.ts";
import type { ContainerStore } from "./store.ts";

/** The ports a container publishes. */
export function portsOf(c: ContainerConfig): PortMapping[] {
  return c.host.ports ?? [];
}

/**
 * Checks the network flags of a new container and picks its host ports:
 * `host.ports` as asked (host port 0: any free one) plus, for -P, the
 * image's `exposed` ports not published already. A taken host port throws
 * PortInUseError here, before anything is created.
 */
export async function resolveNetwork(
  host: HostConfig,
  exposed: string[],
): Promise<HostConfig> {
  const mode = parseNetworkMode(host.network);
  addHostLines(host.addHosts ?? []);
  const asked = host.ports ?? [];
  const key = (m: PortMapping) => `${m.containerPort}/${m.protocol}`;
  const taken = new Set(asked.map(key));
  const wanted = [
    ...asked,
    ...exposedMappings(exposed).filter((m) => !taken.has(key(m))),
  ];
  if (wanted.length > 0 && !hasStack(mode)) {
    throw new Error(
      `publishing ports needs a network of the container's own (slirp4netns or pasta), not --network ${host.network}`,
    );
  }
  if (
    mode.kind === "slirp4netns" && !mode.allowHostLoopback &&
    wanted.some((m) => m.protocol === "udp")
  ) {
    console.error(
      "WARN: slirp4netns drops UDP replies to clients on the host's loopback unless --network slirp4netns:allow_host_loopback=true",
    );
  }
  return { ...host, ports: await reservePorts(wanted) };
}

/** The PORTS column of `ps`: "127.0.0.1:8080->80/tcp, ...". */
export function psPorts(c: ContainerConfig): string {
  return formatPorts(portsOf(c));
}

/** `inspect`'s NetworkSettings: ports, and the address while it runs. */
export function inspectNetwork(
  store: ContainerStore,
  c: ContainerConfig,
  running: boolean,
): Record<string, unknown> {
  return networkSettings(portsOf(c), store.runDir(c.id), running);
}

/**
 * The network of one run of the container: pass `attach` to startInit as
 * its beforeRelease hook, call `detach` as soon as the container exited, so
 * its host ports are free at once.
 */
export class ContainerNetwork {
  #handle?: NetworkHandle;

  constructor(readonly store: ContainerStore, readonly c: ContainerConfig) {}

  /** Connects the namespace of `pid` and publishes the ports. */
  attach = async (pid: number): Promise<void> => {
    this.#handle = await startNetwork(pid, {
      mode: parseNetworkMode(this.c.host.network),
      ports: portsOf(this.c),
      runDir: this.store.runDir(this.c.id),
    });
  };

  /** Stops the stack; safe to call when attach never ran or failed. */
  async detach(): Promise<void> {
    await this.#handle?.stop();
    this.#handle = undefined;
  }
}
