/**
 * A container's network as its parent (foreground CLI or monitor) drives it,
 * and the views of it that ps, port and inspect show.
 */
import { conflict, invalid } from "../runtime/errors.ts";
import { addHostLines } from "../network/etc.ts";
import {
  hasStack,
  joinsNetwork,
  type NetworkAttachment,
  type NetworkMode,
} from "../network/mode.ts";
import {
  exposedMappings,
  type PortMapping,
  reservePorts,
} from "../network/ports.ts";
import {
  type NetworkHandle,
  networkSettings,
  readNetworkInfo,
  startNetwork,
} from "../network/stack.ts";
import { isOwnNetns, netnsId } from "../runtime/netns.ts";
import { type ContainerConfig, type HostConfig, portsOf } from "./config.ts";
import { monitorAlive, reconcile } from "./liveness.ts";
import type { ContainerStore } from "./store.ts";
import type { Membership } from "../network/attach.ts";
import type { Attached } from "../network/holder.ts";
import { lazy } from "../runtime/lazy.ts";
import { trace } from "../runtime/trace.ts";

/**
 * The running container whose network `--network container:REF` joins (or
 * whose `what`, e.g. IPC namespace for --ipc container:).
 */
export async function networkTarget(
  store: ContainerStore,
  ref: string,
  what = "network",
): Promise<{ c: ContainerConfig; pid: number }> {
  const c = store.find(ref);
  const s = await reconcile(store, c.id);
  if (s.status !== "running" || !monitorAlive(s) || !(s.pid > 0)) {
    throw conflict(`cannot join ${what} of a non running container: ${ref}`);
  }
  return { c, pid: s.pid };
}

/**
 * Refuses what cannot go with a joined namespace (Podman's messages: the
 * other container owns the resolver and hosts file) and checks that
 * the namespace is there to join.
 */
async function checkJoin(
  store: ContainerStore,
  host: HostConfig,
  mode: NetworkMode,
) {
  if (mode.kind === "ns") {
    netnsId(mode.target!);
    return;
  }
  if ((host.addHosts ?? []).length > 0) {
    throw invalid(
      "invalid config provided: cannot set extra host entries when the container is joined to another containers network namespace: invalid configuration",
    );
  }
  // A pod's infra container starts with its first container (--requires).
  if (host.pod === undefined) await networkTarget(store, mode.target!);
}

/**
 * --dns and its kin need a resolv.conf of the container's own: none with
 * --network none or a joined namespace (Podman's words and mode names).
 */
function checkDns(host: HostConfig, mode: NetworkMode) {
  const dns = host.dns;
  if (
    !dns || dns.servers.length + dns.search.length + dns.options.length === 0
  ) {
    return;
  }
  const name = { none: "none", container: "container", ns: "path" }[
    mode.kind as string
  ];
  if (name) {
    throw invalid(`conflicting options: dns and the network mode: ${name}`);
  }
}

/**
 * Named networks must exist when the container is created; a container on
 * them lives in their holder's user namespace, so it cannot have a
 * --userns of its own.
 */
async function checkNamed(
  store: ContainerStore,
  host: HostConfig,
  networks: NetworkAttachment[],
) {
  // Only containers on named networks load the network records, and (in
  // the background, while the container is made) the membership code.
  attachModule().catch(() => {});
  const { NetworkStore } = await lazy<typeof import("../network/config.ts")>(
    "src/network/config.ts",
  );
  const known = new NetworkStore(store.paths);
  for (const n of networks) known.find(n.name);
  if (host.userns && host.userns.kind !== "host") {
    throw invalid(
      "--userns cannot go with --network NAME: containers on a network share its user namespace",
    );
  }
}

/** Where a starting container's network namespace comes from, if it joins one. */
export interface NetworkJoin {
  /** The namespace file to enter; undefined when it is ptd's own (host). */
  netns?: string;
  /** container:NAME: the other's runtime dir, whose hosts and resolv.conf it shares. */
  etcDir?: string;
}

/**
 * For --network container:/ns:, what to join now (the other container must
 * be running); undefined for a namespace of the container's own or the host.
 */
export async function networkJoin(
  store: ContainerStore,
  mode: NetworkMode,
): Promise<NetworkJoin | undefined> {
  if (!joinsNetwork(mode)) return undefined;
  let path = mode.target!, etcDir;
  if (mode.kind === "container") {
    const t = await networkTarget(store, mode.target!);
    path = `/proc/${t.pid}/ns/net`;
    etcDir = store.runDir(t.c.id);
  }
  // The other container may use the host's network: then so does this one.
  return { netns: isOwnNetns(path) ? undefined : path, etcDir };
}

/**
 * Checks the network flags of a new container and picks its host ports:
 * `host.ports` as asked (host port 0: any free one) plus, for -P, the
 * image's `exposed` ports not published already. A taken host port throws
 * PortInUseError here, before anything is created; so does a container to
 * join that is not running.
 */
export async function resolveNetwork(
  store: ContainerStore,
  host: HostConfig,
  exposed: string[],
): Promise<HostConfig> {
  const mode = host.networkMode;
  addHostLines(host.addHosts ?? []);
  const asked = host.ports ?? [];
  const key = (m: PortMapping) => `${m.containerPort}/${m.protocol}`;
  const taken = new Set(asked.map(key));
  const wanted = [
    ...asked,
    ...exposedMappings(exposed).filter((m) => !taken.has(key(m))),
  ];
  checkDns(host, mode);
  if (joinsNetwork(mode)) await checkJoin(store, host, mode);
  if (mode.networks) await checkNamed(store, host, mode.networks);
  if (wanted.length > 0 && !hasStack(mode)) {
    // Podman goes on without them, saying so.
    console.error(
      "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use",
    );
    return { ...host, ports: [] };
  }
  return { ...host, ports: await reservePorts(wanted) };
}

/** `inspect`'s NetworkSettings: ports, and the address while it runs. */
export function inspectNetwork(
  store: ContainerStore,
  c: ContainerConfig,
  running: boolean,
): Record<string, unknown> {
  return networkSettings(
    portsOf(c),
    store.runDir(c.id),
    running,
    c.host.networkMode.networks,
  );
}

/** The membership code, loaded only by containers on named networks. */
function attachModule() {
  return lazy<typeof import("../network/attach.ts")>(
    "src/network/attach.ts",
  );
}

/**
 * The network of one run of the container: pass `attach` to startInit as
 * its beforeRelease hook, call `detach` as soon as the container exited, so
 * its host ports are free at once.
 */
export class ContainerNetwork {
  #handle?: NetworkHandle;
  #member?: Membership;

  constructor(readonly store: ContainerStore, readonly c: ContainerConfig) {}

  /**
   * Before the clone: on named networks, joins their holder; returns the
   * user namespace the container must be born in (undefined otherwise).
   */
  async prepare(): Promise<string | undefined> {
    const networks = this.c.host.networkMode.networks;
    if (!networks) return undefined;
    const { Membership } = await attachModule();
    trace("net-loaded");
    this.#member = await Membership.open(this.store.paths, networks);
    trace("net-holder");
    return this.#member.userns;
  }

  /**
   * `network reload`: makes the running container's networking again,
   * whatever of it died (the holder and with it the veths, pasta and the
   * ports, the UDP proxy): same addresses, same ports, DNS entries back.
   */
  async reload(pid: number): Promise<void> {
    const networks = this.c.host.networkMode.networks;
    if (!networks) return;
    // What it had: the same addresses and MACs where they are free.
    const had = readNetworkInfo(this.store.runDir(this.c.id))?.networks ?? [];
    await this.#handle?.stop(true);
    this.#handle = undefined;
    this.#member?.close();
    this.#member = undefined;
    const { Membership } = await attachModule();
    this.#member = await Membership.open(this.store.paths, networks, {
      userns: `/proc/${pid}/ns/user`,
      had,
    });
    await this.attach(pid);
  }

  /** Connects the namespace of `pid` and publishes the ports. */
  attach = async (pid: number): Promise<void> => {
    const m = this.#member;
    // The holder wires the veths while pasta starts: neither needs the other.
    const attached = m?.attach(pid, this.c.id, [this.c.name]).then(
      async (a) => {
        trace("net-attached");
        await this.#writeEtc(m, a);
        return a;
      },
    );
    this.#handle = await startNetwork(pid, {
      mode: this.c.host.networkMode,
      ports: portsOf(this.c),
      runDir: this.store.runDir(this.c.id),
      attached,
      internalOnly: m?.internalOnly,
    });
    trace("net-started");
  };

  /** hosts and resolv.conf now that the addresses are known. */
  async #writeEtc(m: Membership, attached: Attached[]) {
    const { hostsWithAddress, networkResolvConf } = await attachModule();
    const run = this.store.runDir(this.c.id);
    let host = "";
    try {
      host = Deno.readTextFileSync("/etc/resolv.conf");
    } catch { /* none: no host servers */ }
    Deno.writeTextFileSync(
      `${run}/resolv.conf`,
      networkResolvConf(
        m.records,
        this.c.host.networkMode,
        host,
        this.c.host.dns ?? { servers: [], search: [], options: [] },
      ),
    );
    const hosts = Deno.readTextFileSync(`${run}/hosts`);
    Deno.writeTextFileSync(
      `${run}/hosts`,
      hostsWithAddress(hosts, attached[0].ip || attached[0].ipv6!),
    );
  }

  /** Stops the stack; safe to call when attach never ran or failed. */
  async detach(): Promise<void> {
    trace("net-detach");
    await this.#handle?.stop();
    this.#handle = undefined;
    this.#member?.close();
    this.#member = undefined;
    trace("net-detached");
  }
}
