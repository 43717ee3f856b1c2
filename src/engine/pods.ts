/**
 * The engine's pods: create (with its infra container), the settings a
 * container created with --pod gets, and start, stop, kill, restart, rm,
 * prune, ps and inspect over a pod's containers. The infra container runs
 * catatonit as its pause process (as Podman's does) on a root of its own
 * in the store; its network (ports included) and IPC namespaces are the
 * pod's, which the other containers join (--network container:, --ipc
 * container:) and it is started before them and stopped after them.
 */
import {
  type ContainerConfig,
  type HostConfig,
  plainHost,
} from "../container/config.ts";
import { randomName } from "../container/names.ts";
import type { PortMapping } from "../network/ports.ts";
import { type PodRecord, PodStore } from "../pod/store.ts";
import { conflict, invalid, notFound } from "../runtime/errors.ts";
import { goMap, goStruct } from "../runtime/gomap.ts";
import { ensureDir } from "../storage/paths.ts";
import {
  createContainer,
  type CreateRequest,
  networkSettings,
} from "./create.ts";
import type { Engine, PruneReport } from "./engine.ts";
import {
  compileFilters,
  FORM_ERROR,
  labelsMatch,
  parseFilters,
} from "./filters.ts";
import {
  killContainer,
  pauseContainer,
  removeContainer,
  startContainer,
  stopContainer,
} from "./lifecycle.ts";
import { containersWithState, type Listed } from "./listing.ts";

const pods = (e: Engine) => e.store(PodStore);

/** The pause process's path inside the infra container's root. */
const PAUSE = "/catatonit";

/** What `pod create` asks for. */
export interface PodCreateRequest {
  name?: string;
  labels?: Record<string, string>;
  hostname?: string;
  /** -p of the pod: published by its infra container. */
  ports?: PortMapping[];
  /** --network values for the infra container (the pod's network). */
  network?: string[];
  addHosts?: string[];
  dns?: string[];
  /** net, ipc, uts (Podman's default). */
  share?: string[];
  /** --infra=false: no infra container, nothing shared. */
  infra?: boolean;
}

/** The infra container's root: catatonit and the mount points init needs. */
function infraRoot(e: Engine): string {
  const root = ensureDir(`${e.paths.data}/pods/infra-root`);
  try {
    Deno.statSync(`${root}${PAUSE}`);
  } catch {
    let from = "";
    for (const p of ["/usr/bin/catatonit", "/usr/libexec/podman/catatonit"]) {
      try {
        Deno.statSync(p);
        from = p;
        break;
      } catch { /* next */ }
    }
    if (!from) {
      throw invalid(
        "catatonit not found: install the Debian package catatonit (the pods' pause process)",
      );
    }
    for (const d of ["etc", "dev", "proc", "sys", "tmp"]) {
      ensureDir(`${root}/${d}`, 0o755);
    }
    const tmp = `${root}${PAUSE}.tmp`;
    Deno.copyFileSync(from, tmp);
    Deno.chmodSync(tmp, 0o755);
    Deno.renameSync(tmp, `${root}${PAUSE}`);
  }
  return root;
}

/** The infra container's settings, as `run` would make them. */
function infraHost(req: PodCreateRequest): HostConfig {
  return {
    ...plainHost(),
    ...networkSettings(req.network ?? []),
    ports: req.ports ?? [],
    dns: { servers: req.dns ?? [], search: [], options: [] },
    addHosts: req.addHosts ?? [],
  };
}

const SHARES = ["net", "ipc", "uts"];

/** `pod create`: the pod and its infra container (created, not started). */
export async function createPod(
  e: Engine,
  req: PodCreateRequest,
): Promise<PodRecord> {
  const share = req.share ?? SHARES;
  for (const s of share) {
    if (!SHARES.includes(s) && s !== "none") {
      throw invalid(
        `invalid kernel namespace to share: ${s}. Options are: cgroup, ipc, net, pid, uts or none`,
      );
    }
  }
  const infra = req.infra ?? true;
  if (!infra && (req.ports ?? []).length > 0) {
    throw invalid(
      "you must have an infra container to publish port bindings to the host",
    );
  }
  const taken = new Set(pods(e).list().map((p) => p.name));
  const name = req.name ?? randomName((n) => taken.has(n));
  const pod = await pods(e).create({
    name,
    labels: req.labels ?? {},
    hostname: req.hostname ?? name,
    share: infra ? share.filter((x) => x !== "none") : [],
  });
  if (!infra) return pod;
  try {
    const c = await createContainer(e, {
      image: infraRoot(e),
      rootfs: true,
      name: `${pod.id.slice(0, 12)}-infra`,
      command: [PAUSE, "-P"],
      env: [],
      hostname: pod.hostname,
      labels: {},
      host: { ...infraHost(req), pod: pod.id },
    });
    const done = { ...pod, infraId: c.id };
    pods(e).update(done);
    return done;
  } catch (err) {
    pods(e).remove(pod.id);
    throw err;
  }
}

/**
 * What a container created with `--pod REF` (or `new:NAME`) gets: the
 * pod's namespaces, through its infra container, which is started here
 * since the namespaces must exist to be joined.
 */
export async function podMember(
  e: Engine,
  ref: string,
  req: CreateRequest,
): Promise<CreateRequest> {
  const pod = ref.startsWith("new:")
    ? await createPod(e, { name: ref.slice(4) })
    : pods(e).find(ref);
  if (!pod.infraId) return { ...req, host: { ...req.host, pod: pod.id } };
  const nonDefault = req.host.network !== "private";
  if (pod.share.includes("net") && nonDefault) {
    throw invalid(
      "invalid config provided: networks and ports can only be set on the pod, not on a container of it",
    );
  }
  await startContainer(e, pod.infraId);
  const infra = `container:${pod.infraId}`;
  return {
    ...req,
    hostname: req.hostname ??
      (pod.share.includes("uts") ? pod.hostname : undefined),
    host: {
      ...req.host,
      ...(pod.share.includes("net") ? networkSettings(infra) : {}),
      ...(pod.share.includes("ipc")
        ? { ipc: infra as `container:${string}` }
        : {}),
      pod: pod.id,
    },
  };
}

/** The pod's containers with their states, infra first. */
async function members(e: Engine, pod: PodRecord): Promise<Listed[]> {
  const all = (await containersWithState(e)).filter((x) =>
    x.c.host.pod === pod.id
  );
  return all.sort((a, b) =>
    Number(b.c.id === pod.infraId) - Number(a.c.id === pod.infraId)
  );
}

/** The newest pod (Podman's --latest); with none, "no such pod". */
export function latestPod(e: Engine): PodRecord {
  const last = pods(e).list()
    .sort((a, b) => Date.parse(a.created) - Date.parse(b.created)).at(-1);
  if (!last) throw notFound("no such pod");
  return last;
}

/** The pods `refs` name (all of them with `all`, the newest with `latest`). */
export function selectPods(
  e: Engine,
  refs: string[],
  all = false,
  latest = false,
): PodRecord[] {
  if (latest && refs.length > 0) {
    throw invalid("--latest and containers cannot be used together");
  }
  if (latest) return [latestPod(e)];
  if (all) return pods(e).list();
  if (refs.length === 0) {
    throw invalid("you must provide at least one name or id");
  }
  return refs.map((r) => pods(e).find(r));
}

/** `pod start`: the infra container first, then the others. */
export async function startPod(e: Engine, pod: PodRecord): Promise<void> {
  for (const x of await members(e, pod)) await startContainer(e, x.c.id);
}

/** Runs `fn` on each running container of the pod, the infra one last. */
async function eachRunning(
  e: Engine,
  pod: PodRecord,
  fn: (id: string) => Promise<void>,
): Promise<void> {
  for (const x of (await members(e, pod)).reverse()) {
    if (x.state.status === "running") await fn(x.c.id);
  }
}

/** `pod stop`: the others first, the infra container last. */
export function stopPod(
  e: Engine,
  pod: PodRecord,
  timeout?: number,
): Promise<void> {
  return eachRunning(e, pod, (id) => stopContainer(e, id, timeout));
}

/** `pod kill`: every running container of the pod. */
export function killPod(
  e: Engine,
  pod: PodRecord,
  signal: string,
): Promise<void> {
  return eachRunning(e, pod, (id) => killContainer(e, id, signal));
}

/** `pod pause`/`unpause`: every running container (needs the freezer). */
export function freezePod(
  e: Engine,
  pod: PodRecord,
  freeze: boolean,
): Promise<void> {
  return eachRunning(e, pod, (id) => pauseContainer(e, id, freeze));
}

/** `pod restart`. */
export async function restartPod(e: Engine, pod: PodRecord): Promise<void> {
  await stopPod(e, pod);
  await startPod(e, pod);
}

/**
 * `pod rm`: a pod with running containers is refused without `force`;
 * its containers go with it.
 */
export async function removePod(
  e: Engine,
  pod: PodRecord,
  force: boolean,
): Promise<string> {
  const list = await members(e, pod);
  if (!force && list.some((x) => x.state.status === "running")) {
    throw conflict(
      `pod ${pod.id} has containers that are not ready to be removed: cannot remove container ${
        list.find((x) => x.state.status === "running")!.c.id
      } as it is running - running or paused containers cannot be removed without force: container state improper`,
    );
  }
  for (const x of list.reverse()) {
    await removeContainer(e, x.c.id, { force: true });
  }
  pods(e).remove(pod.id);
  return pod.id;
}

/** `pod prune`: pods none of whose containers runs. */
export async function prunePods(e: Engine): Promise<PruneReport<string>> {
  const report: PruneReport<string> = { removed: [], errors: [] };
  for (const pod of pods(e).list()) {
    const list = await members(e, pod);
    if (list.some((x) => x.state.status === "running")) continue;
    try {
      report.removed.push(await removePod(e, pod, true));
    } catch (err) {
      report.errors.push({ id: pod.id, error: err });
    }
  }
  return report;
}

/** Podman's pod status from its containers' states. */
function podStatus(list: Listed[]): string {
  if (list.length === 0) return "Created";
  const running = list.filter((x) => x.state.status === "running").length;
  if (running === list.length) return "Running";
  if (running > 0) return "Degraded";
  if (list.every((x) => x.state.status === "created")) return "Created";
  return "Exited";
}

/** A pod as `pod ps` and its templates see it (Podman's ListPodsReport). */
export interface PodListing {
  Cgroup: string;
  Containers: { Id: string; Names: string; Status: string }[];
  Created: string;
  Id: string;
  InfraId: string;
  Name: string;
  Namespace: string;
  Networks: string[];
  Status: string;
  Labels: Record<string, string>;
}

const PS_KEYS = ["name", "id", "label", "status", "ctr-names", "ctr-ids"];

/** `pod ps`, with Podman's filters (name, id, label, status, ctr-names, ctr-ids). */
export async function listPods(
  e: Engine,
  filters: string[] = [],
): Promise<PodListing[]> {
  const matches = compileFilters<PodListing>(
    parseFilters(filters, {
      keys: PS_KEYS,
      unknown: (k) => `${k} is an invalid filter`,
      malformed: FORM_ERROR,
    }),
    {
      name: (vs) => (p) => vs.some((v) => new RegExp(v).test(p.Name)),
      id: (vs) => (p) => vs.some((v) => p.Id.startsWith(v)),
      label: (vs) => (p) => labelsMatch(vs, p.Labels),
      status: (vs) => (p) => vs.includes(p.Status.toLowerCase()),
      "ctr-names": (vs) => (p) =>
        p.Containers.some((c) => vs.some((v) => new RegExp(v).test(c.Names))),
      "ctr-ids": (vs) => (p) =>
        p.Containers.some((c) => vs.some((v) => c.Id.startsWith(v))),
    },
  );
  const out: PodListing[] = [];
  for (const pod of pods(e).list()) {
    const list = await members(e, pod);
    const infra = list.find((x) => x.c.id === pod.infraId)?.c;
    out.push(goStruct({
      Cgroup: "",
      Containers: list.map((x) =>
        goStruct({
          Id: x.c.id,
          Names: x.c.name,
          Status: x.state.status,
        }, "entities.ListPodContainer")
      ),
      Created: pod.created,
      Id: pod.id,
      InfraId: pod.infraId ?? "",
      Name: pod.name,
      Namespace: "",
      Networks: infra?.host.networkMode.networks?.map((n) => n.name) ?? [],
      Status: podStatus(list),
      Labels: goMap(pod.labels),
    }, "entities.ListPodsReport"));
  }
  return out.filter(matches);
}

/** `pod inspect`: Podman's InspectPodData, the fields ptd has. */
export async function inspectPod(
  e: Engine,
  ref: string,
): Promise<Record<string, unknown>> {
  const pod = pods(e).find(ref);
  const list = await members(e, pod);
  const infra = list.find((x) => x.c.id === pod.infraId)?.c;
  return goStruct({
    Id: pod.id,
    Name: pod.name,
    Created: pod.created,
    ExitPolicy: "continue",
    State: podStatus(list),
    Hostname: pod.hostname === pod.name ? "" : pod.hostname,
    ...(Object.keys(pod.labels).length > 0
      ? { Labels: goMap(pod.labels) }
      : {}),
    CreateInfra: pod.infraId !== undefined,
    InfraContainerID: pod.infraId ?? "",
    ...(infra ? { InfraConfig: infraConfig(infra) } : {}),
    SharedNamespaces: [...pod.share].sort(),
    NumContainers: list.length,
    Containers: list.map((x) =>
      goStruct({
        Id: x.c.id,
        Name: x.c.name,
        State: x.state.status,
      }, "define.InspectPodContainerInfo")
    ),
  }, "define.InspectPodData");
}

/** A list as Go's JSON prints a nil slice when empty. */
const orNull = <T>(list: T[] | undefined) =>
  list && list.length > 0 ? list : null;

function infraConfig(c: ContainerConfig) {
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of c.host.ports ?? []) {
    (ports[`${p.containerPort}/${p.protocol}`] ??= []).push({
      HostIp: p.hostIp,
      HostPort: String(p.hostPort),
    });
  }
  return goStruct({
    PortBindings: goMap(ports),
    HostNetwork: c.host.networkMode.kind === "host",
    StaticIP: "",
    StaticMAC: "",
    NoManageResolvConf: false,
    DNSServer: orNull(c.host.dns?.servers),
    DNSSearch: null,
    DNSOption: null,
    NoManageHosts: false,
    HostAdd: orNull(c.host.addHosts),
    Networks: orNull(c.host.networkMode.networks?.map((n) => n.name)),
    NetworkOptions: null,
    pid_ns: "private",
    userns: "host",
    uts_ns: "private",
  }, "define.InspectPodInfraConfig");
}

/** `pod exists`. */
export function podExists(e: Engine, ref: string): boolean {
  try {
    pods(e).find(ref);
    return true;
  } catch {
    return false;
  }
}

/** The containers of a pod, for top and logs. */
export async function podContainers(
  e: Engine,
  ref: string,
): Promise<ContainerConfig[]> {
  return (await members(e, pods(e).find(ref))).map((x) => x.c);
}
