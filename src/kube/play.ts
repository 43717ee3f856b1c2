/**
 * `play kube` and `kube down`: the pods, containers and volumes a manifest
 * describes, made through the engine as `pod create` and `run --pod`
 * would make them. Every object is parsed, checked and planned before
 * anything is made, and what was made is removed again when a later step
 * fails, so a refused manifest leaves nothing behind.
 */
import { dirname } from "node:path";
import type {
  ContainerConfig,
  ContainerMount,
  HostConfig,
  InitCtrType,
} from "../container/config.ts";
import {
  createContainer,
  type CreateRequest,
  networkSettings,
} from "../engine/create.ts";
import type { Engine } from "../engine/engine.ts";
import { startContainer } from "../engine/lifecycle.ts";
import { runInitContainers } from "../engine/pod_init.ts";
import { createPod, podExists, removePod, stopPod } from "../engine/pods.ts";
import { createVolume, removeVolumesByName } from "../engine/volumes.ts";
import { limitRefusal } from "../cgroup/policy.ts";
import type { PullProgress } from "../image/pull.ts";
import type { PullPolicy } from "../image/resolve.ts";
import type { PortMapping } from "../network/ports.ts";
import { PodStore } from "../pod/store.ts";
import { invalid } from "../runtime/errors.ts";
import { ensureDir } from "../storage/paths.ts";
import { VolumeStore } from "../volume/store.ts";
import { buildImages, type BuildPolicy } from "./build.ts";
import { resourcesOf } from "./resources.ts";
import { dataOf, type PodPlan, podsOf, unsupportedFields } from "./objects.ts";
import { type KubeObject, parseManifest } from "./schema.ts";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";

/** What `play kube` is asked for. */
export interface PlayKubeRequest {
  /** The manifest's text and where it came from (for errors). */
  text: string;
  source: string;
  /** --replace: pods of the same names are removed first. */
  replace?: boolean;
  /** --start=false: create only. */
  start?: boolean;
  /** --configmap files: more ConfigMaps than the manifest's. */
  configMaps?: { text: string; source: string }[];
  /** Hears each warning (unsupported fields). */
  warn?: (line: string) => void;
  /** --network: the pods' network (default: each its own stack). */
  network?: string[];
  /** --log-driver of every container. */
  logDriver?: string;
  /** Hears of image pulls. */
  onProgress?: (p: PullProgress) => void;
  /** --build, --context-dir: images built from directories of their names. */
  build?: BuildPolicy;
  /** Hears the ids of the pods --replace removed. */
  replaced?: (ids: string[]) => void;
}

/** A pod `play kube` made: its containers (init ones aside). */
export interface PlayedPod {
  id: string;
  name: string;
  containers: string[];
  /** Why containers did not start, as Podman reports it. */
  errors: string[];
}

/** What `play kube` made. */
export interface PlayKubeReport {
  pods: PlayedPod[];
  volumes: string[];
}

/** Kubernetes' restart policies as ptd's. */
const RESTART: Record<string, HostConfig["restartPolicy"]["name"]> = {
  Always: "always",
  OnFailure: "on-failure",
  Never: "no",
};

const NO_RESTART: HostConfig["restartPolicy"] = {
  name: "no",
  maximumRetryCount: 0,
};

const PULL: Record<string, PullPolicy> = {
  Always: "always",
  IfNotPresent: "missing",
  Never: "never",
};

/** The ConfigMaps and Secrets a pod may read, by kind and name. */
type DataSources = Map<string, Record<string, string>>;

/** Looks up `name` of `kind`; a missing one is an error unless optional. */
function lookup(
  data: DataSources,
  kind: "ConfigMap" | "Secret",
  name: string,
  optional?: boolean,
): Record<string, string> | undefined {
  const hit = data.get(`${kind}/${name}`);
  if (!hit && !optional) {
    throw invalid(`${kind} ${JSON.stringify(name)} not found`);
  }
  return hit;
}

/** A container's environment from env and envFrom. */
function envOf(c: IContainer, data: DataSources): string[] {
  const out: string[] = [];
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? "ConfigMap" : "Secret";
    const values = lookup(data, kind, ref?.name ?? "", ref?.optional) ?? {};
    for (const [k, v] of Object.entries(values)) {
      out.push(`${from.prefix ?? ""}${k}=${v}`);
    }
  }
  for (const v of c.env ?? []) {
    const ref = v.valueFrom?.configMapKeyRef ?? v.valueFrom?.secretKeyRef;
    if (!ref) {
      out.push(`${v.name}=${v.value ?? ""}`);
      continue;
    }
    const kind = v.valueFrom?.configMapKeyRef ? "ConfigMap" : "Secret";
    const values = lookup(data, kind, ref.name ?? "", ref.optional);
    const value = values?.[ref.key];
    if (value === undefined && !ref.optional) {
      throw invalid(
        `${kind} ${JSON.stringify(ref.name)} has no key ${
          JSON.stringify(ref.key)
        }`,
      );
    }
    if (value !== undefined) out.push(`${v.name}=${value}`);
  }
  return out;
}

/** A pod's files: ConfigMap and Secret volumes become directories here. */
const filesDir = (e: Engine, pod: string) => `${e.paths.data}/kube/${pod}`;

/** How a pod volume is mounted, by its name; `files` are written at play. */
interface VolumePlan {
  mount: Omit<ContainerMount, "destination" | "readonly">;
  readonly?: boolean;
  files?: Record<string, string>;
  /** A PVC's volume, made when missing. */
  claim?: string;
  /** A hostPath directory to make (DirectoryOrCreate). */
  mkdir?: boolean;
  /** An emptyDir's volume: the pod's containers share it; it goes with the pod. */
  scratch?: boolean;
}

/** The label of an emptyDir's volume: the pod it goes with. */
const SCRATCH_LABEL = "io.ptd.kube.emptydir-of";

function volumePlan(
  e: Engine,
  pod: string,
  v: IVolume,
  data: DataSources,
): VolumePlan {
  if (v.persistentVolumeClaim) {
    const claim = v.persistentVolumeClaim.claimName;
    return { mount: { type: "volume", source: claim }, claim };
  }
  if (v.hostPath) {
    const { path, type } = v.hostPath;
    let isDir: boolean | undefined;
    try {
      isDir = Deno.statSync(path).isDirectory;
    } catch { /* missing */ }
    const wantDir = type === "Directory" || type === "DirectoryOrCreate";
    if (isDir === undefined && type && !type.endsWith("OrCreate")) {
      throw invalid(
        `hostPath ${path}: no such ${wantDir ? "directory" : "file"}`,
      );
    }
    if (isDir !== undefined && type && wantDir !== isDir) {
      throw invalid(
        `hostPath ${path}: not a ${wantDir ? "directory" : "file"}`,
      );
    }
    return {
      mount: { type: "bind", source: path },
      mkdir: isDir === undefined && type === "DirectoryOrCreate",
      files: isDir === undefined && type === "FileOrCreate" ? {} : undefined,
    };
  }
  if (v.emptyDir) {
    return v.emptyDir.medium === "Memory"
      ? { mount: { type: "tmpfs", source: "" } }
      : {
        mount: { type: "volume", source: `${pod}-${v.name}` },
        scratch: true,
      };
  }
  const ref = v.configMap ?? v.secret;
  if (ref) {
    const kind = v.configMap ? "ConfigMap" : "Secret";
    const name = (v.configMap ? v.configMap.name : v.secret?.secretName) ?? "";
    const values = lookup(data, kind, name, ref.optional) ?? {};
    const files: Record<string, string> = {};
    for (
      const item of ref.items ??
        Object.keys(values).map((k) => ({ key: k, path: k }))
    ) {
      if (values[item.key] === undefined) {
        throw invalid(
          `${kind} ${JSON.stringify(name)} has no key ${
            JSON.stringify(item.key)
          }`,
        );
      }
      if (item.path.split("/").includes("..") || item.path.startsWith("/")) {
        throw invalid(
          `${kind} ${name}: item path ${item.path} leaves its volume`,
        );
      }
      files[item.path] = values[item.key];
    }
    return {
      mount: { type: "bind", source: `${filesDir(e, pod)}/${v.name}` },
      readonly: true,
      files,
    };
  }
  throw invalid(
    `volume ${v.name}: only persistentVolumeClaim, hostPath, emptyDir, configMap and secret volumes are supported`,
  );
}

/** Settings of a pod's container, as `run` would store them. */
function hostOf(c: IContainer, spec: IPodSpec): HostConfig {
  const sc = c.securityContext ?? {};
  const strip = (list: string[] = []) =>
    list.map((x) => x.replace(/^CAP_/i, "").toUpperCase());
  return {
    autoRemove: false,
    interactive: !!c.stdin,
    tty: !!c.tty,
    capAdd: strip(sc.capabilities?.add),
    capDrop: strip(sc.capabilities?.drop),
    privileged: !!sc.privileged,
    noNewPrivileges: sc.allowPrivilegeEscalation === false,
    readOnly: !!sc.readOnlyRootFilesystem,
    ...networkSettings([]),
    groupAdd: [],
    restartPolicy: {
      name: RESTART[spec.restartPolicy ?? "Always"],
      maximumRetryCount: 0,
    },
    stopSignal: "SIGTERM",
    stopTimeout: spec.terminationGracePeriodSeconds ?? 10,
    ...livenessOf(c, spec),
  };
}

/**
 * A liveness probe as a health check (Go durations, in ns): an exec
 * probe's command, or as Podman 4.3 turns an httpGet or tcpSocket probe,
 * curl or nc run in the container (whose image must have them). A failed
 * check restarts the container when the pod's policy restarts it, as the
 * kubelet would (Podman kills its PID 1 for that).
 */
function livenessOf(
  c: IContainer,
  spec: IPodSpec,
): Pick<HostConfig, "healthcheck" | "healthOnFailure"> {
  const p = c.livenessProbe;
  const test = p && probeTest(c, p);
  if (!p || !test) return {};
  const ns = (s?: number) => s === undefined ? undefined : s * 1e9;
  return {
    healthcheck: {
      Test: test,
      StartPeriod: ns(p.initialDelaySeconds),
      Interval: ns(p.periodSeconds ?? 10),
      Timeout: ns(p.timeoutSeconds ?? 1),
      Retries: p.failureThreshold ?? 3,
    },
    ...(spec.restartPolicy === "Never" ? {} : { healthOnFailure: "restart" }),
  };
}

/** The check's command (undefined for a probe ptd cannot run: gRPC). */
function probeTest(c: IContainer, p: IProbe): string[] | undefined {
  const port = (v: number | string) => {
    const n = typeof v === "number"
      ? v
      : c.ports?.find((x) => x.name === v)?.containerPort;
    if (n === undefined) {
      throw invalid(
        `container ${c.name}: livenessProbe: no port named ${
          JSON.stringify(v)
        }`,
      );
    }
    return n;
  };
  if (p.exec) return ["CMD", ...p.exec.command ?? []];
  if (p.httpGet) {
    const g = p.httpGet;
    const scheme = (g.scheme ?? "HTTP").toLowerCase();
    const where = `${g.host ?? "localhost"}:${port(g.port)}`;
    return ["CMD-SHELL", `curl -f ${scheme}://${where}${g.path ?? "/"}`];
  }
  if (p.tcpSocket) {
    const t = p.tcpSocket;
    return ["CMD-SHELL", `nc -z -v ${t.host ?? "localhost"} ${port(t.port)}`];
  }
  return undefined;
}

/** One pod to make: its pod request, volumes and containers. */
interface PodBuild {
  plan: PodPlan;
  ports: PortMapping[];
  volumes: Map<string, VolumePlan>;
  /** Run to completion, in order, before the others start. */
  init: CreateRequest[];
  containers: CreateRequest[];
}

function buildPod(
  e: Engine,
  plan: PodPlan,
  data: DataSources,
  logDriver?: string,
): PodBuild {
  const spec = plan.spec ?? {};
  const volumes = new Map<string, VolumePlan>();
  for (const v of spec.volumes ?? []) {
    volumes.set(v.name, volumePlan(e, plan.name, v, data));
  }
  const ports: PortMapping[] = [];
  const request = (c: IContainer): CreateRequest => {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      ports.push({
        hostIp: p.hostIP ?? "",
        hostPort: p.hostPort,
        containerPort: p.containerPort,
        protocol: p.protocol === "UDP" ? "udp" : "tcp",
      });
    }
    const mounts = (c.volumeMounts ?? []).map(
      (m: IVolumeMount) => {
        const v = volumes.get(m.name);
        if (!v) {
          throw invalid(
            `container ${c.name}: volumeMount ${m.name}: no volume of that name in the pod`,
          );
        }
        return {
          ...v.mount,
          destination: m.mountPath,
          readonly: !!(m.readOnly || v.readonly),
        };
      },
    );
    return {
      // Required by the schema for a Pod's containers.
      image: c.image!,
      pull: PULL[c.imagePullPolicy ?? "IfNotPresent"],
      name: `${plan.name}-${c.name}`,
      ...(c.command ? { entrypoint: c.command } : {}),
      command: c.args ?? [],
      env: envOf(c, data),
      workdir: c.workingDir,
      user:
        [sc(c).runAsUser, sc(c).runAsGroup].filter((x) => x !== undefined).join(
          ":",
        ) || undefined,
      labels: {},
      mounts,
      host: { ...hostOf(c, spec), logDriver, resources: resourcesOf(c) },
    };
  };
  const names = new Set<string>();
  for (const c of [...spec.initContainers ?? [], ...spec.containers ?? []]) {
    if (names.has(c.name)) {
      throw invalid(
        `the pod "${plan.name}" is invalid; duplicate container name "${c.name}" detected`,
      );
    }
    names.add(c.name);
  }
  const initCtr = initCtrType(plan);
  const init = (spec.initContainers ?? []).map((c) => {
    if (c.lifecycle || c.livenessProbe || c.readinessProbe || c.startupProbe) {
      throw invalid(
        "cannot create an init container that has either of lifecycle, livenessProbe, readinessProbe, or startupProbe set",
      );
    }
    const req = request(c);
    return {
      ...req,
      host: { ...req.host, restartPolicy: NO_RESTART, initCtr },
    };
  });
  const containers = (spec.containers ?? []).map(request);
  if (containers.length === 0) throw invalid(`pod ${plan.name}: no containers`);
  return { plan, ports, volumes, init, containers };
}

/** Podman's annotation naming the kind of a pod's init containers. */
const INIT_CTR_ANNOTATION = "io.podman.annotations.init.container.type";

/** The kind of the pod's init containers: "once" unless annotated. */
function initCtrType(plan: PodPlan): InitCtrType {
  const v = plan.annotations[INIT_CTR_ANNOTATION] ?? "once";
  if (v !== "always" && v !== "once") {
    throw invalid(
      `pod ${plan.name}: ${INIT_CTR_ANNOTATION}: ${
        JSON.stringify(v)
      } is neither always nor once`,
    );
  }
  return v;
}

const sc = (c: IContainer) => c.securityContext ?? {};

/** The manifest's objects; unsupported fields go to `warn`. */
async function objectsOf(req: PlayKubeRequest): Promise<KubeObject[]> {
  const objs = await parseManifest(req.text, req.source);
  for (const extra of req.configMaps ?? []) {
    for (const o of await parseManifest(extra.text, extra.source)) {
      if (o.kind !== "ConfigMap") {
        throw invalid(
          `${extra.source}: --configmap: ${o.kind} is not a ConfigMap`,
        );
      }
      objs.push(o);
    }
  }
  const unsupported = objs.flatMap(unsupportedFields);
  if (unsupported.length > 0) {
    req.warn?.(`unsupported fields are ignored: ${unsupported.join(", ")}`);
  }
  return objs;
}

/**
 * Resource limits this host cannot enforce (no delegated cgroup v2) are
 * dropped, and said so in one warning: Podman 4.3 plays a cluster's
 * manifests on such a host too, without their limits.
 */
function unenforceable(
  requests: CreateRequest[],
  warn: PlayKubeRequest["warn"],
) {
  const limited = requests.filter((r) => r.host.resources);
  const refusal = limited.length > 0 && limitRefusal(limited[0].host);
  if (!refusal) return;
  warn?.(`resource limits are ignored: ${refusal.message}`);
  for (const r of limited) delete r.host.resources;
}

/** The pods the manifest's workloads make. */
const planned = (objs: KubeObject[]) =>
  objs.flatMap((o) =>
    ["Pod", "Deployment", "DaemonSet"].includes(o.kind) ? podsOf(o) : []
  );

/** `play kube`: makes (and starts) what the manifest describes. */
export async function playKube(
  e: Engine,
  req: PlayKubeRequest,
): Promise<PlayKubeReport> {
  const objs = await objectsOf(req);
  const data: DataSources = new Map();
  for (const o of objs) {
    if (o.kind === "ConfigMap" || o.kind === "Secret") {
      data.set(`${o.kind}/${o.metadata.name}`, dataOf(o));
    }
  }
  const builds = planned(objs).map((p) => buildPod(e, p, data, req.logDriver));
  if (
    builds.length === 0 && !objs.some((o) => o.kind === "PersistentVolumeClaim")
  ) {
    throw invalid(
      `${req.source}: no Pod, Deployment, DaemonSet or PersistentVolumeClaim to play`,
    );
  }
  const names = new Set<string>();
  for (const b of builds) {
    if (names.has(b.plan.name)) {
      throw invalid(`pod ${b.plan.name} is described twice`);
    }
    names.add(b.plan.name);
    if (!req.replace && podExists(e, b.plan.name)) {
      throw invalid(
        `adding pod to state: name "${b.plan.name}" is in use: pod already exists`,
      );
    }
  }
  if (req.replace) {
    const gone = await removePods(e, [...names]);
    if (gone.length > 0) req.replaced?.(gone);
  }
  const requests = builds.flatMap((b) => [...b.init, ...b.containers]);
  unenforceable(requests, req.warn);
  const built = await buildImages(
    e,
    requests.map((r) => r.image),
    req.build ?? {},
  );
  // A built image is used as it is: its name is nowhere to pull from.
  for (const r of requests) if (built.has(r.image)) r.pull = "never";
  const report: PlayKubeReport = { pods: [], volumes: [] };
  const claims = new Set([
    ...objs.filter((o) => o.kind === "PersistentVolumeClaim").map((o) =>
      o.metadata.name!
    ),
    ...builds.flatMap((b) =>
      [...b.volumes.values()].flatMap((v) => v.claim ? [v.claim] : [])
    ),
  ]);
  const made: MadePod[] = [];
  try {
    const existing = new Set(e.store(VolumeStore).list().map((v) => v.name));
    for (const claim of claims) {
      if (existing.has(claim)) continue;
      await createVolume(e, claim);
      report.volumes.push(claim);
    }
    for (const b of builds) made.push(await makePod(e, b, req, report));
  } catch (err) {
    await removePods(e, report.pods.map((p) => p.name)).catch(() => {});
    await removeVolumesByName(e, report.volumes, true).catch(() => {});
    throw err;
  }
  // Made in full: a pod that fails to start stays, as Podman leaves it,
  // for its logs to be read.
  if (req.start ?? true) { for (const m of made) await startPlayed(e, m); }
  return report;
}

/** A pod made: what `play kube` reports, and its init containers. */
interface MadePod {
  played: PlayedPod;
  infra?: string;
  init: ContainerConfig[];
}

async function makePod(
  e: Engine,
  b: PodBuild,
  req: PlayKubeRequest,
  report: PlayKubeReport,
): Promise<MadePod> {
  const hooks = { onProgress: req.onProgress };
  const hostNetwork = !!b.plan.spec.hostNetwork;
  const pod = await createPod(e, {
    name: b.plan.name,
    labels: b.plan.labels,
    hostname: b.plan.spec.hostname,
    ports: hostNetwork ? [] : b.ports,
    network: hostNetwork ? ["host"] : req.network,
  });
  const played: PlayedPod = {
    id: pod.id,
    name: pod.name,
    containers: [],
    errors: [],
  };
  report.pods.push(played);
  for (const [name, v] of b.volumes) {
    if (v.mkdir) Deno.mkdirSync(v.mount.source, { recursive: true });
    if (v.scratch) {
      await createVolume(e, v.mount.source, { [SCRATCH_LABEL]: pod.name });
    }
    if (!v.files) continue;
    if (v.mount.source.startsWith(filesDir(e, pod.name))) {
      const dir = ensureDir(`${filesDir(e, pod.name)}/${name}`);
      for (const [path, text] of Object.entries(v.files)) {
        Deno.mkdirSync(dirname(`${dir}/${path}`), { recursive: true });
        Deno.writeTextFileSync(`${dir}/${path}`, text);
      }
    } else Deno.writeTextFileSync(v.mount.source, "");
  }
  // Init containers are made first: they run in the order they were made.
  const init = [];
  for (const c of b.init) {
    init.push(await createContainer(e, { ...c, pod: pod.id }, hooks));
  }
  for (const c of b.containers) {
    const { id } = await createContainer(e, { ...c, pod: pod.id }, hooks);
    played.containers.push(id);
  }
  return { played, infra: pod.infraId, init };
}

/**
 * Starts a pod `play kube` made, as `pod start` does: a failing init
 * container stops it with Podman's error; a container that does not start
 * is reported and the others start all the same, as Podman reports them.
 */
async function startPlayed(e: Engine, m: MadePod): Promise<void> {
  if (m.infra) await startContainer(e, m.infra);
  await runInitContainers(e, m.init);
  for (const id of m.played.containers) {
    try {
      await startContainer(e, id);
    } catch (err) {
      m.played.errors.push(
        `starting container ${id}: ${(err as Error).message}`,
      );
    }
  }
}

/** Stops and removes the pods called `names` that exist, with their files. */
async function removePods(e: Engine, names: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    if (!podExists(e, name)) continue;
    const pod = e.store(PodStore).find(name);
    await stopPod(e, pod, 0).catch(() => {});
    removed.push(await removePod(e, pod, true));
    await removeVolumesByName(
      e,
      e.store(VolumeStore).list().filter((v) =>
        v.labels[SCRATCH_LABEL] === name
      ).map((v) => v.name),
      true,
    );
    try {
      Deno.removeSync(filesDir(e, name), { recursive: true });
    } catch { /* the pod had no files */ }
  }
  return removed;
}

/** What `play kube --down` removed. */
export interface DownReport {
  pods: string[];
  volumes: string[];
}

/**
 * `play kube --down` (`kube down`): removes the pods the manifest makes;
 * with `force`, its PersistentVolumeClaims' volumes too.
 */
export async function downKube(
  e: Engine,
  req: { text: string; source: string; force?: boolean },
): Promise<DownReport> {
  const objs = await parseManifest(req.text, req.source);
  const names = planned(objs).map((p) => p.name);
  // Podman looks every pod up before it stops any: one missing, none goes.
  for (const name of names) e.store(PodStore).find(name);
  const pods = await removePods(e, names);
  const volumes: string[] = [];
  if (req.force) {
    const have = new Set(e.store(VolumeStore).list().map((v) => v.name));
    const claims = new Set([
      ...objs.filter((o) => o.kind === "PersistentVolumeClaim").map((o) =>
        o.metadata.name!
      ),
      ...planned(objs).flatMap((p) =>
        (p.spec?.volumes ?? []).flatMap((
          v: { persistentVolumeClaim?: { claimName: string } },
        ) => v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [])
      ),
    ]);
    volumes.push(
      ...await removeVolumesByName(
        e,
        [...claims].filter((c) => have.has(c)),
        true,
      ),
    );
  }
  return { pods, volumes };
}

/** A manifest's text from a file, stdin (`-`) or an http(s) URL. */
export async function readManifest(
  arg: string,
): Promise<{ text: string; source: string }> {
  if (/^https?:\/\//.test(arg)) {
    const res = await fetch(arg).catch((err) => {
      throw invalid(`${arg}: ${err.message}`);
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw invalid(`${arg}: ${res.status} ${res.statusText}`);
    }
    return { text: await res.text(), source: arg };
  }
  try {
    const text = arg === "-"
      ? await new Response(Deno.stdin.readable).text()
      : Deno.readTextFileSync(arg);
    return { text, source: arg === "-" ? "stdin" : arg };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw invalid(`open ${arg}: no such file or directory`);
    }
    throw err;
  }
}
