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
import { cgroupPlan, hostDelegation } from "../cgroup/policy.ts";
import { randomName } from "../container/names.ts";
import type { PortMapping } from "../network/ports.ts";
import { type PodRecord, PodStore } from "../pod/store.ts";
import { invalid, isKind, notFound } from "../runtime/errors.ts";
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
  type Matcher,
  parseFilters,
  parseTime,
} from "./filters.ts";
import {
  killContainer,
  pauseContainer,
  removeContainer,
  type RemoveOptions,
  startContainer,
  stopContainer,
} from "./lifecycle.ts";
import { containersWithState, type Listed } from "./listing.ts";
import { runInitContainers } from "./pod_init.ts";

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
  /** --share as given; absent, ipc,net,uts (Podman's default). */
  share?: string;
  /** --infra=false: no infra container, nothing shared. */
  infra?: boolean;
  /** --infra-image: the infra container's image instead of catatonit's root. */
  infraImage?: string;
  /** --infra-command: its entrypoint, split at spaces as Podman does. */
  infraCommand?: string;
  /** --infra-name: its name; absent, ID12-infra. */
  infraName?: string;
  /** --infra-conmon-pidfile: where each start writes its monitor's pid. */
  infraMonitorPidFile?: string;
  /** --replace: a pod of the same name is removed first, even running. */
  replace?: boolean;
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

const DEFAULT_SHARES = ["ipc", "net", "uts"];

/**
 * --share as Podman reads it: a list of namespaces, or with a leading `+`
 * ones added to the default; `none` anywhere shares nothing, `user` is
 * taken and ignored (one user namespace is shared anyway). Sharing the
 * cgroup namespace needs Podman's --share-parent=false, which ptd lacks:
 * refused with the error Podman gives without it.
 */
export function parseShare(value: string | undefined): string[] {
  if (value === undefined) return DEFAULT_SHARES;
  const plus = value.startsWith("+");
  const given = (plus ? value.slice(1) : value).split(",").filter(Boolean);
  const out = new Set(plus ? DEFAULT_SHARES : []);
  for (const ns of given) {
    if (ns === "none") return [];
    if (ns === "mnt") {
      throw invalid("mount sharing functionality not supported on pod level");
    }
    if (ns === "cgroup") {
      throw invalid(
        "cannot define the pod as the cgroup parent at the same time as joining the infra container's cgroupNS: invalid argument",
      );
    }
    if (!["ipc", "net", "pid", "uts", "user"].includes(ns)) {
      throw invalid(
        `invalid kernel namespace to share: ${ns}. Options are: cgroup, ipc, net, pid, uts or none`,
      );
    }
    if (ns !== "user") out.add(ns);
  }
  return [...out].sort();
}

/**
 * The infra container: catatonit on ptd's own root (or --infra-image with
 * its entrypoint and command, or --infra-command), holding the pod's
 * network settings.
 */
function infraRequest(
  e: Engine,
  pod: PodRecord,
  req: PodCreateRequest,
): CreateRequest {
  const command = req.infraCommand?.split(" ");
  return {
    ...(req.infraImage === undefined
      ? { image: infraRoot(e), rootfs: true, command: command ?? [PAUSE, "-P"] }
      : { image: req.infraImage, command: [], entrypoint: command }),
    name: req.infraName ?? `${pod.id.slice(0, 12)}-infra`,
    env: [],
    hostname: pod.hostname,
    labels: {},
    host: {
      ...infraHost(req),
      pod: pod.id,
      monitorPidFile: req.infraMonitorPidFile,
    },
  };
}

/** `pod create`: the pod and its infra container (created, not started). */
export async function createPod(
  e: Engine,
  req: PodCreateRequest,
): Promise<PodRecord> {
  const share = parseShare(req.share);
  const infra = req.infra ?? true;
  if (!infra && (req.ports ?? []).length > 0) {
    throw invalid(
      "you must have an infra container to publish port bindings to the host",
    );
  }
  const old = pods(e).list().find((p) => p.name === req.name);
  if (req.replace && old) await removePod(e, old, true);
  const taken = new Set(pods(e).list().map((p) => p.name));
  const name = req.name ?? randomName((n) => taken.has(n));
  const pod = await pods(e).create({
    name,
    labels: req.labels ?? {},
    hostname: req.hostname ?? name,
    share: infra ? share : [],
  });
  if (!infra) return pod;
  try {
    const c = await createContainer(e, infraRequest(e, pod, req));
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
 * pod's namespaces, through its infra container, which it requires: the
 * infra container starts first, as in Podman.
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
  if (
    pod.share.includes("net") &&
    ((req.host.ports ?? []).length > 0 || req.publishAll)
  ) {
    throw invalid(
      "invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod",
    );
  }
  if (pod.share.includes("uts") && req.hostname !== undefined) {
    throw invalid(
      "invalid config provided: cannot set hostname when joining the pod UTS namespace: invalid configuration",
    );
  }
  const infra = `container:${pod.infraId}` as const;
  const shared = (ns: string) => pod.share.includes(ns) ? infra : undefined;
  // A --network or --ipc of the container's own wins, as in Podman.
  const ownNetwork = req.host.network !== "private";
  return {
    ...req,
    hostname: shared("uts") ? pod.hostname : req.hostname,
    host: {
      ...req.host,
      ...(shared("net") && !ownNetwork ? networkSettings(infra) : {}),
      ipc: req.host.ipc ?? shared("ipc"),
      uts: shared("uts"),
      pid: shared("pid"),
      pod: pod.id,
      // The namespaces are made when the first container starts.
      requires: [pod.infraId, ...(req.host.requires ?? [])],
    },
  };
}

/** The pod's containers with their states, infra first, then oldest first. */
async function members(e: Engine, pod: PodRecord): Promise<Listed[]> {
  const all = (await containersWithState(e)).filter((x) =>
    x.c.host.pod === pod.id
  );
  const rank = (x: Listed) => x.c.id === pod.infraId ? "" : x.c.created;
  return all.sort((a, b) => rank(a).localeCompare(rank(b)));
}

/** The pod's containers as Podman lists them: newest first. */
async function newestFirst(e: Engine, pod: PodRecord): Promise<Listed[]> {
  return (await members(e, pod)).sort((a, b) =>
    b.c.created.localeCompare(a.c.created)
  );
}

/**
 * The pods `refs` name (all of them with `all`, the newest with
 * `latest`); with `ignore`, names of no pod are left out.
 */
export function selectPods(
  e: Engine,
  refs: string[],
  opts: { all?: boolean; latest?: boolean; ignore?: boolean } = {},
): PodRecord[] {
  const list = pods(e).list();
  if (opts.all) return list;
  if (opts.latest) {
    if (refs.length > 0) {
      throw invalid("--latest and containers cannot be used together");
    }
    const last = list.toSorted((a, b) =>
      Date.parse(a.created) - Date.parse(b.created)
    ).at(-1);
    if (!last) throw notFound("no such pod");
    return [last];
  }
  if (refs.length === 0) {
    throw invalid("you must provide at least one name or id");
  }
  return refs.flatMap((r) => {
    try {
      return [pods(e).find(r)];
    } catch (err) {
      if (opts.ignore && isKind(err, "not-found")) return [];
      throw err;
    }
  });
}

/**
 * `pod start`: the infra container first, then the init containers, each
 * to its end, then the others; a pod with no container is Podman's error.
 */
export async function startPod(e: Engine, pod: PodRecord): Promise<void> {
  const list = await members(e, pod);
  if (list.length === 0) {
    throw notFound(
      `no containers in pod ${pod.id} have no dependencies, cannot start pod: no such container`,
    );
  }
  if (list[0].c.id === pod.infraId) await startContainer(e, list[0].c.id);
  await runInitContainers(e, list.map((x) => x.c));
  for (const x of list) {
    if (!x.c.host.initCtr) await startContainer(e, x.c.id);
  }
}

/** Runs `fn` on each container of the pod in `state`, the infra one last. */
async function eachIn(
  e: Engine,
  pod: PodRecord,
  state: (x: Listed) => boolean,
  fn: (id: string) => Promise<void>,
): Promise<void> {
  for (const x of (await members(e, pod)).reverse()) {
    if (state(x)) await fn(x.c.id);
  }
}

const running = (x: Listed) => x.state.status === "running";

/** `pod stop`: the others first, the infra container last. */
export function stopPod(
  e: Engine,
  pod: PodRecord,
  timeout?: number,
): Promise<void> {
  return eachIn(e, pod, running, (id) => stopContainer(e, id, timeout));
}

/** `pod kill`: every running container of the pod. */
export function killPod(
  e: Engine,
  pod: PodRecord,
  signal: string,
): Promise<void> {
  return eachIn(e, pod, running, (id) => killContainer(e, id, signal));
}

/**
 * Refuses to pause a pod with a container that has no cgroup of its own,
 * whatever state it is in, as Podman does (in its words on a v1 host).
 */
function checkFreezer(list: Listed[]) {
  if (list.every((x) => cgroupPlan(x.c.id, x.c.host))) return;
  const why = hostDelegation();
  const reason = "reason" in why ? why.reason : "--cgroups disabled";
  throw invalid(
    reason.includes("v1")
      ? "can not pause pods containing rootless containers with cgroup V1: this container does not have a cgroup"
      : `can not pause pods containing containers without a cgroup of their own: ${reason}`,
  );
}

/**
 * `pod pause`: every running container (needs the freezer); `unpause`:
 * every paused one of a paused or degraded pod, else (false) nothing, as
 * in Podman.
 */
export async function freezePod(
  e: Engine,
  pod: PodRecord,
  freeze: boolean,
): Promise<boolean> {
  const list = await members(e, pod);
  const status = podStatus(list);
  if (!freeze && status !== "Paused" && status !== "Degraded") return false;
  if (freeze) checkFreezer(list);
  await eachIn(
    e,
    pod,
    (x) => running(x) && !x.state.paused === freeze,
    (id) => pauseContainer(e, id, freeze),
  );
  return true;
}

/** `pod restart`. */
export async function restartPod(e: Engine, pod: PodRecord): Promise<void> {
  await stopPod(e, pod);
  await startPod(e, pod);
}

/**
 * `pod rm`: a pod with running containers (its infra container aside) is
 * refused without `force`, in Podman's words; its containers go with it,
 * their anonymous volumes too (as Podman's: a pod of `play kube` takes its
 * emptyDir volumes); named volumes stay.
 */
export async function removePod(
  e: Engine,
  pod: PodRecord,
  force: boolean,
): Promise<string> {
  const list = await members(e, pod);
  const busy = list.find((x) => running(x) && x.c.id !== pod.infraId);
  if (!force && busy) {
    throw invalid(
      `removing container ${busy.c.id} from pod ${pod.id}: cannot remove container ${busy.c.id} as it is running - running or paused containers cannot be removed without force: container state improper`,
    );
  }
  for (const x of list.reverse()) {
    await removeContainer(e, x.c.id, {
      force: true,
      infra: "infra",
      volumes: true,
    });
  }
  pods(e).remove(pod.id);
  return pod.id;
}

/**
 * `rm` of a pod's infra container: refused (Podman's error), unless
 * `opts.infra` says its pod goes with it; true when the pod was removed.
 */
export async function removeWithPod(
  e: Engine,
  c: ContainerConfig,
  opts: Pick<RemoveOptions, "infra">,
): Promise<boolean> {
  const pod = pods(e).list().find((p) => p.infraId === c.id);
  if (!pod) return false;
  if (opts.infra !== "pod") {
    throw invalid(
      `container ${c.id} is the infra container of pod ${pod.id} and cannot be removed without removing the pod`,
    );
  }
  // Podman's rm --all takes a running infra container too, -f or not.
  await removePod(e, pod, true);
  return true;
}

/** `pod prune`: the pods whose containers all exited (Podman's Exited). */
export async function prunePods(e: Engine): Promise<PruneReport<string>> {
  const report: PruneReport<string> = { removed: [], errors: [] };
  for (const pod of pods(e).list()) {
    if (podStatus(await members(e, pod)) !== "Exited") continue;
    try {
      report.removed.push(await removePod(e, pod, true));
    } catch (err) {
      report.errors.push({ id: pod.id, error: err });
    }
  }
  return report;
}

/** Podman's pod status from its containers' states (init ones aside). */
function podStatus(all: Listed[]): string {
  const list = all.filter((x) => !x.c.host.initCtr);
  if (list.length === 0) return "Created";
  const running = list.filter((x) => x.state.status === "running").length;
  if (list.every((x) => x.state.paused)) return "Paused";
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

const PS_KEYS = [
  "name",
  "id",
  "label",
  "status",
  "ctr-names",
  "ctr-ids",
  "ctr-status",
  "ctr-number",
  "network",
  "until",
];

const POD_STATES = [
  "stopped",
  "running",
  "paused",
  "exited",
  "dead",
  "created",
  "degraded",
];

/** Whether some container of `p` matches `test`. */
const anyContainer = (
  p: PodListing,
  test: (c: PodListing["Containers"][number]) => boolean,
) => p.Containers.some(test);

/** Podman's pod filters over a listed pod. */
const POD_MATCHERS: Record<string, Matcher<PodListing>> = {
  name: (vs) => (p) => vs.some((v) => new RegExp(v).test(p.Name)),
  id: (vs) => (p) => vs.some((v) => p.Id.startsWith(v)),
  label: (vs) => (p) => labelsMatch(vs, p.Labels),
  status: (vs) => {
    const bad = vs.find((v) => !POD_STATES.includes(v));
    if (bad !== undefined) throw invalid(`${bad} is not a valid pod status`);
    return (p) => vs.includes(p.Status.toLowerCase());
  },
  "ctr-names": (vs) => (p) =>
    anyContainer(p, (c) => vs.some((v) => new RegExp(v).test(c.Names))),
  "ctr-ids": (vs) => (p) =>
    anyContainer(p, (c) => vs.some((v) => c.Id.startsWith(v))),
  "ctr-status": (vs) => (p) => anyContainer(p, (c) => vs.includes(c.Status)),
  "ctr-number": (vs) => (p) =>
    vs.some((v) => Number(v) === p.Containers.length),
  network: (vs) => (p) => p.Networks.some((n) => vs.includes(n)),
  until: (vs) => {
    const times = vs.map((v) => parseTime(v));
    return (p) => times.some((t) => Date.parse(p.Created) < t);
  },
};

/** `pod ps --sort` keys and what they compare. */
const SORTS: Record<string, (a: PodListing, b: PodListing) => number> = {
  created: (a, b) => b.Created.localeCompare(a.Created),
  id: (a, b) => a.Id.localeCompare(b.Id),
  name: (a, b) => a.Name.localeCompare(b.Name),
  number: (a, b) => a.Containers.length - b.Containers.length,
  status: (a, b) => a.Status.localeCompare(b.Status),
};

/**
 * `pod ps`, with Podman's filters and sort keys (newest first by
 * default), containers newest first.
 */
export async function listPods(
  e: Engine,
  filters: string[] = [],
  sort = "created",
): Promise<PodListing[]> {
  const order = SORTS[sort];
  if (!order) {
    throw invalid(
      "invalid option for --sort, options are: id, names, or number",
    );
  }
  const matches = compileFilters<PodListing>(
    parseFilters(filters, {
      keys: PS_KEYS,
      unknown: (k) => `${k} is an invalid filter`,
      malformed: FORM_ERROR,
    }),
    POD_MATCHERS,
  );
  const out: PodListing[] = [];
  for (const pod of pods(e).list()) {
    const list = await newestFirst(e, pod);
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
  return out.filter(matches).sort(order);
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

/**
 * The containers of a pod: the infra container and then the others in
 * the order they were made, or (top and logs, as Podman) newest first.
 */
export async function podContainers(
  e: Engine,
  ref: string,
  newest = false,
): Promise<ContainerConfig[]> {
  const pod = pods(e).find(ref);
  return (await (newest ? newestFirst : members)(e, pod)).map((x) => x.c);
}
