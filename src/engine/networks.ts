/**
 * The engine's networks: create, ls, inspect, rm (with `force`, the
 * containers on a network go first), prune, exists, connect, disconnect.
 * Records and addresses: src/network/config.ts; a running container's
 * wiring: the holder (src/network/holder.ts).
 */
import { emitEvent } from "../events/emit.ts";
import { reloadNetwork } from "../container/attach.ts";
import type { ContainerConfig } from "../container/config.ts";
import { isActive, reconcileKept } from "../container/liveness.ts";
import { isV6 } from "../network/address.ts";
import { dnsNames } from "../network/attach.ts";
import {
  DEFAULT_NETWORK,
  type NetworkCreateRequest,
  type NetworkRecord,
  NetworkStore,
} from "../network/config.ts";
import type { Attached } from "../network/holder.ts";
import { connectHolder } from "../network/holder_client.ts";
import type { NetworkAttachment } from "../network/mode.ts";
import { readNetworkInfo } from "../network/stack.ts";
import { conflict, invalid, PtdError } from "../runtime/errors.ts";
import { goMap, goStruct } from "../runtime/gomap.ts";
import { withLock, writeJsonAtomic } from "../storage/json.ts";
import type { Engine, PruneReport } from "./engine.ts";
import {
  compileFilters,
  FORM_ERROR,
  labelsMatch,
  parseFilters,
} from "./filters.ts";
import { removeContainer } from "./lifecycle.ts";
import { containerStore } from "./listing.ts";
import { selectContainers } from "./selection.ts";

const networks = (e: Engine) => e.store(NetworkStore);

/** The bridge options ptd's networks take (Podman knows mtu, vlan, isolate...). */
const OPTIONS = ["mtu", "isolate", "metric"];

/** `network create`: its options checked first, whatever the front end. */
export function createNetwork(
  e: Engine,
  req: NetworkCreateRequest,
): Promise<NetworkRecord> {
  for (const [k, v] of Object.entries(req.options ?? {})) {
    if (k === "mtu" && !/^\d+$/.test(v)) throw invalid(`invalid mtu "${v}"`);
    if (!OPTIONS.includes(k)) {
      throw invalid(`unsupported bridge network option ${k}`);
    }
  }
  const v6 = req.ipv6 || (req.subnet ?? []).some(isV6);
  if (v6 && !hostHasIpv6()) {
    throw invalid(
      "cannot create an IPv6 network: this host's kernel has no IPv6 (no /proc/sys/net/ipv6)",
    );
  }
  return networks(e).create(req);
}

/** Whether the kernel has IPv6 (network namespaces then have it too). */
function hostHasIpv6(): boolean {
  try {
    Deno.statSync("/proc/sys/net/ipv6");
    return true;
  } catch {
    return false;
  }
}

/** The containers whose configuration puts them on `name`. */
function usersOf(e: Engine, name: string): ContainerConfig[] {
  return containerStore(e).list().filter((c) =>
    c.host.networkMode.networks?.some((n) => n.name === name)
  );
}

const LS_KEYS = ["name", "id", "driver", "label", "dangling"] as const;

const syntax = (keys: readonly string[]) => ({
  keys,
  unknown: (k: string) => `invalid filter "${k}"`,
  malformed: FORM_ERROR,
});

/** `network ls`, with Podman's filters (name, id, driver, label, dangling). */
export function listNetworks(e: Engine, filters: string[]): NetworkRecord[] {
  const matches = compileFilters<NetworkRecord>(
    parseFilters(filters, syntax(LS_KEYS)),
    {
      name: (vs) => (n) => vs.some((v) => new RegExp(v).test(n.name)),
      id: (vs) => (n) => vs.some((v) => n.id.startsWith(v)),
      driver: (vs) => (n) => vs.includes(n.driver),
      label: (vs) => (n) => labelsMatch(vs, n.labels ?? {}),
      dangling: (vs) => (n) =>
        vs.every((v) => (usersOf(e, n.name).length === 0) === (v === "true")),
    },
  );
  return networks(e).list().filter(matches).map(networkDoc);
}

/** A network as Podman's inspect and ls print it: its fields in order. */
export function networkDoc(n: NetworkRecord): NetworkRecord {
  return goStruct({
    name: n.name,
    id: n.id,
    driver: n.driver,
    network_interface: n.network_interface,
    created: n.created,
    subnets: n.subnets.map((s) => goStruct({ ...s }, "types.Subnet")),
    ipv6_enabled: n.ipv6_enabled,
    internal: n.internal,
    dns_enabled: n.dns_enabled,
    ...(n.labels ? { labels: goMap(n.labels) } : {}),
    ...(n.options ? { options: goMap(n.options) } : {}),
    ipam_options: goMap(n.ipam_options),
  }, "types.Network");
}

/** `network inspect` of one network. */
export function inspectNetworkRecord(e: Engine, ref: string): NetworkRecord {
  return networkDoc(networks(e).find(ref));
}

/** A container on a network and, while it runs, what it got there. */
export interface NetworkMember {
  c: ContainerConfig;
  attachment: NetworkAttachment;
  attached?: Attached;
}

/** What a container got on its networks, if it is running. */
async function attachedNow(e: Engine, c: ContainerConfig): Promise<Attached[]> {
  if (await runningPid(e, c) === undefined) return [];
  return readNetworkInfo(containerStore(e).runDir(c.id))?.networks ?? [];
}

/** The containers on a network (the REST API's network inspect). */
export async function networkMembers(
  e: Engine,
  ref: string,
): Promise<{ network: NetworkRecord; members: NetworkMember[] }> {
  const network = networks(e).find(ref);
  const members = await Promise.all(
    usersOf(e, network.name).map(async (c) => ({
      c,
      attachment: c.host.networkMode.networks!.find((a) =>
        a.name === network.name
      )!,
      attached: (await attachedNow(e, c)).find((a) =>
        a.network === network.name
      ),
    })),
  );
  return { network, members };
}

/**
 * A container's named networks, in order, each with its record (the REST
 * API's container inspect and list).
 */
export async function containerNetworks(
  e: Engine,
  ref: string,
): Promise<{ network: NetworkRecord; member: NetworkMember }[]> {
  const c = containerStore(e).find(ref);
  const list = c.host.networkMode.networks ?? [];
  if (list.length === 0) return [];
  const got = await attachedNow(e, c);
  const records = new Map(networks(e).list().map((n) => [n.name, n]));
  return list.flatMap((attachment) => {
    const network = records.get(attachment.name);
    if (!network) return [];
    const attached = got.find((a) => a.network === attachment.name);
    return [{ network, member: { c, attachment, attached } }];
  });
}

/** `network exists`. */
export function networkExists(e: Engine, ref: string): boolean {
  return networks(e).exists(ref);
}

/**
 * `network rm`: a network containers are on is refused (exit 2) unless
 * `force`, which removes them first, running or not.
 */
export async function removeNetwork(
  e: Engine,
  ref: string,
  force: boolean,
): Promise<string> {
  const n = networks(e).find(ref);
  if (n.name === DEFAULT_NETWORK) {
    throw invalid(`default network ${n.name} cannot be removed`);
  }
  const users = usersOf(e, n.name);
  if (users.length > 0 && !force) {
    throw conflict(
      `"${n.name}" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used`,
      2,
    );
  }
  // A pod's infra container takes its pod along, as Podman's -f does.
  for (const c of users) {
    await removeContainer(e, c.id, { force: true, infra: "pod" });
  }
  networks(e).remove(n.name);
  return n.name;
}

/** `network prune`: every network but the default one that no container uses. */
export function pruneNetworks(
  e: Engine,
  filters: string[],
): PruneReport<string> {
  const report: PruneReport<string> = { removed: [], errors: [] };
  const matches = compileFilters<NetworkRecord>(
    parseFilters(filters, syntax(["label"])),
    { label: (vs) => (n) => labelsMatch(vs, n.labels ?? {}) },
  );
  for (const n of networks(e).list()) {
    if (n.name === DEFAULT_NETWORK || !matches(n)) continue;
    if (usersOf(e, n.name).length > 0) continue;
    try {
      networks(e).remove(n.name);
      report.removed.push(n.name);
    } catch (err) {
      report.errors.push({ id: n.name, error: err });
    }
  }
  return report;
}

/** Rewrites a container's network list under the store's lock. */
async function updateNetworks(
  e: Engine,
  id: string,
  fn: (list: NetworkAttachment[]) => NetworkAttachment[],
): Promise<void> {
  const store = containerStore(e);
  await withLock(`${store.root}/.lock`, () => {
    const c = store.find(id);
    const list = fn(c.host.networkMode.networks ?? []);
    writeJsonAtomic(`${store.dir(id)}/config.json`, {
      ...c,
      host: {
        ...c.host,
        network: list.map((n) => n.name).join(","),
        networkMode: { ...c.host.networkMode, networks: list },
      },
    });
  });
}

/** The pid of a running container, or undefined. */
async function runningPid(e: Engine, c: ContainerConfig) {
  const s = await reconcileKept(containerStore(e), c.id);
  return s && isActive(s) && s.pid > 0 ? s.pid : undefined;
}

/** Records what a running container got on a network, for inspect. */
function recordAttached(
  e: Engine,
  c: ContainerConfig,
  edit: (a: Attached[]) => Attached[],
) {
  const run = containerStore(e).runDir(c.id);
  const info = readNetworkInfo(run);
  if (!info) return;
  const list = edit(info.networks ?? []);
  Deno.writeTextFileSync(
    `${run}/network.json`,
    JSON.stringify({
      ...info,
      networks: list,
      ipAddress: list[0]?.ip ?? "",
      gateway: list[0]?.gateway ?? "",
      prefixLen: list[0]?.prefixLen ?? 0,
    }),
  );
}

/**
 * `network connect`: puts the container on the network; a running one is
 * wired at once, DNS included. Only containers on named networks can join
 * another (the others live in a user namespace of their own), as in
 * Podman, where rootless slirp4netns containers cannot either.
 */
export async function connectNetwork(
  e: Engine,
  ref: string,
  container: string,
  opts: { aliases?: string[]; ip?: string; ip6?: string },
): Promise<void> {
  const c = containerStore(e).find(container);
  const n = networks(e).find(ref);
  const mode = c.host.networkMode;
  if (!mode.networks) {
    // Podman 4.3's words: the mode's name for slirp4netns, "" for others.
    const name = mode.kind === "slirp4netns" || mode.kind === "pasta"
      ? mode.kind
      : "";
    throw invalid(`"${name}" is not supported: invalid network mode`);
  }
  if (mode.networks.some((x) => x.name === n.name)) {
    throw new PtdError(
      "conflict",
      `container ${c.id} is already connected to network "${n.name}": network is already connected`,
    );
  }
  const wanted: NetworkAttachment = {
    name: n.name,
    aliases: opts.aliases ?? [],
    ...(opts.ip ? { ip: opts.ip } : {}),
    ...(opts.ip6 ? { ip6: opts.ip6 } : {}),
  };
  const pid = await runningPid(e, c);
  if (pid !== undefined) {
    const h = await connectHolder(e.paths.runtime);
    try {
      const r = await h.request<{ attached: Attached[] }>({
        op: "attach",
        id: c.id,
        names: dnsNames(c.id, [c.name]),
        pid,
        owner: false,
        networks: [{
          network: n,
          aliases: wanted.aliases,
          ip: wanted.ip,
          ip6: wanted.ip6,
        }],
      });
      recordAttached(e, c, (a) => [...a, ...r.attached]);
    } finally {
      h.close();
    }
  }
  await updateNetworks(e, c.id, (list) => [...list, wanted]);
  await networkEvent(c, "connect", n.name);
}

/** `network disconnect`: takes the container off; a running one at once. */
export async function disconnectNetwork(
  e: Engine,
  ref: string,
  container: string,
): Promise<void> {
  const c = containerStore(e).find(container);
  const n = networks(e).find(ref);
  if (!c.host.networkMode.networks?.some((x) => x.name === n.name)) {
    throw invalid(
      `container ${c.id} is not connected to network ${n.name}`,
    );
  }
  const pid = await runningPid(e, c);
  if (pid !== undefined) {
    const h = await connectHolder(e.paths.runtime);
    try {
      await h.request({ op: "detach", id: c.id, network: n.name });
      recordAttached(e, c, (a) => a.filter((x) => x.network !== n.name));
    } finally {
      h.close();
    }
  }
  await updateNetworks(
    e,
    c.id,
    (list) => list.filter((x) => x.name !== n.name),
  );
  await networkEvent(c, "disconnect", n.name);
}

/**
 * Why `network reload` cannot act on `c` (Podman's errors; --all passes
 * over such containers): not running, or not on named networks.
 */
function notReloadable(
  c: ContainerConfig,
  pid: number | undefined,
): PtdError | undefined {
  if (pid === undefined) {
    return conflict(
      "cannot reload network unless container network has been configured: container state improper",
    );
  }
  const kind = c.host.networkMode.kind;
  if (kind === "slirp4netns" || kind === "pasta") {
    return invalid(`"${kind}" is not supported: invalid network mode`);
  }
  if (!c.host.networkMode.networks) {
    return conflict(
      `container ${c.id} network is not configured, refusing to reload: container state improper`,
    );
  }
}

/**
 * `network reload`: the monitor of each running container on named
 * networks makes its networking again (veths, addresses and DNS entries
 * in the holder, started anew if it died; pasta with the published ports).
 * Returns each container's id, with its error if it failed.
 */
export async function reloadNetworks(
  e: Engine,
  sel: { refs: string[]; all?: boolean },
): Promise<{ id: string; error?: unknown }[]> {
  const out: { id: string; error?: unknown }[] = [];
  for (const { c } of await selectContainers(e, sel)) {
    const refused = notReloadable(c, await runningPid(e, c));
    if (refused && sel.all) continue;
    try {
      if (refused) throw refused;
      await reloadNetwork(containerStore(e), c);
      out.push({ id: c.id });
    } catch (error) {
      out.push({ id: c.id, error });
    }
  }
  return out;
}

/** Podman's network event: the container's id and name, and the network. */
function networkEvent(c: ContainerConfig, action: string, network: string) {
  return emitEvent({
    type: "network",
    action,
    id: c.id,
    name: c.name,
    network,
  });
}
