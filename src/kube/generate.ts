/**
 * `generate kube`: containers or a pod as Kubernetes YAML in Podman 4.3's
 * shape (its header, the Pod's annotations and fields, a NodePort Service
 * first with --service), so that what ran under ptd deploys to a cluster
 * and plays back under ptd or Podman.
 */
import { Scalar, stringify } from "yaml";
import type { ContainerConfig, ContainerMount } from "../container/config.ts";
import type { Engine } from "../engine/engine.ts";
import { containerStore } from "../engine/listing.ts";
import { podContainers } from "../engine/pods.ts";
import { PodStore } from "../pod/store.ts";
import { INIT_CTR_ANNOTATION } from "./objects.ts";
import { invalid, isKind, notFound } from "../runtime/errors.ts";

/** What `generate kube` is asked for. */
export interface GenerateKubeRequest {
  refs: string[];
  /** -s: a Service for the published ports. */
  service?: boolean;
  type?: "pod" | "deployment";
}

const HEADER =
  `# Save the output of this file and use kubectl create -f to import
# it into Kubernetes.
#
# Created with podman-4.3.1
`;

/** Podman's note, written when the pods have volumes. */
const VOLUME_NOTE = `
# NOTE: If you generated this yaml from an unprivileged and rootless podman container on an SELinux
# enabled system, check the podman generate kube man page for steps to follow to ensure that your pod/container
# has the right permissions to access the volumes added.
---
`;

/** Environment every container has: not the user's, so not generated. */
const BUILT_IN_ENV = /^(PATH|TERM|HOSTNAME|container|HOME)=/;

type Obj = Record<string, unknown>;

const RESTART: Record<string, string> = {
  "no": "Never",
  "on-failure": "OnFailure",
  "always": "Always",
  "unless-stopped": "Always",
};

/** A Kubernetes name from a path or volume name (DNS-1123 label). */
function dnsLabel(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(
    /^-+|-+$/g,
    "",
  ) || "root";
}

/** A mount as a volumeMount and the pod volume it names. */
function volumeOf(m: ContainerMount, i: number): [Obj, Obj] {
  let name: string;
  let volume: Obj;
  if (m.type === "volume" && m.source !== "") {
    name = `${dnsLabel(m.source)}-pvc`;
    volume = { persistentVolumeClaim: { claimName: m.source } };
  } else if (m.type === "bind") {
    name = `${dnsLabel(m.source)}-host-${i}`;
    let type = "File";
    try {
      if (Deno.statSync(m.source).isDirectory) type = "Directory";
    } catch { /* gone: a file is the narrower claim */ }
    volume = { hostPath: { path: m.source, type } };
  } else {
    name = `${m.type === "tmpfs" ? "tmpfs" : "anon"}-${i}`;
    volume = { emptyDir: m.type === "tmpfs" ? { medium: "Memory" } : {} };
  }
  return [
    {
      mountPath: m.destination,
      name,
      ...(m.readonly ? { readOnly: true } : {}),
    },
    { name, ...volume },
  ];
}

/** Capabilities as Kubernetes writes them (CAP_ prefix kept, as Podman). */
const caps = (list: string[]) =>
  list.map((c) =>
    c.toUpperCase().startsWith("CAP_")
      ? c.toUpperCase()
      : `CAP_${c.toUpperCase()}`
  );

function securityContext(c: ContainerConfig): Obj | undefined {
  const ctx: Obj = {};
  const add = caps(c.host.capAdd);
  const drop = caps(c.host.capDrop);
  if (add.length + drop.length > 0) {
    ctx.capabilities = {
      ...(add.length ? { add } : {}),
      ...(drop.length ? { drop } : {}),
    };
  }
  if (c.host.privileged) ctx.privileged = true;
  if (c.host.readOnly) ctx.readOnlyRootFilesystem = true;
  const [uid, gid] = c.user.split(":");
  if (/^\d+$/.test(uid ?? "")) {
    // Podman names the group too: the user's primary group is 0 here.
    ctx.runAsGroup = /^\d+$/.test(gid ?? "") ? Number(gid) : 0;
    ctx.runAsUser = Number(uid);
  }
  return Object.keys(ctx).length > 0 ? ctx : undefined;
}

function resources(c: ContainerConfig): Obj | undefined {
  const r = c.host.resources ?? {};
  const limits: Obj = {};
  if (r.memory) limits.memory = String(r.memory);
  if (r.nanoCpus) limits.cpu = `${Math.round(r.nanoCpus / 1e6)}m`;
  return Object.keys(limits).length > 0 ? { limits } : undefined;
}

/** A health check as a liveness probe (Go durations in ns, probes in s). */
function livenessProbe(c: ContainerConfig): Obj | undefined {
  const h = c.host.healthcheck ?? c.healthcheck;
  if (!h || h.Test.length === 0 || h.Test[0] === "NONE") return undefined;
  const command = h.Test[0] === "CMD-SHELL"
    ? ["/bin/sh", "-c", h.Test.slice(1).join(" ")]
    : h.Test.slice(h.Test[0] === "CMD" ? 1 : 0);
  const s = (ns?: number) => ns ? Math.max(1, Math.round(ns / 1e9)) : undefined;
  return {
    exec: { command },
    ...(s(h.StartPeriod) ? { initialDelaySeconds: s(h.StartPeriod) } : {}),
    ...(s(h.Interval) ? { periodSeconds: s(h.Interval) } : {}),
    ...(s(h.Timeout) ? { timeoutSeconds: s(h.Timeout) } : {}),
    ...(h.Retries ? { failureThreshold: h.Retries } : {}),
  };
}

/** One container of the Pod's spec, and the pod volumes it uses. */
function containerSpec(
  c: ContainerConfig,
  ports: ContainerConfig["host"]["ports"],
  name: string,
): [Obj, Obj[]] {
  const mounts = (c.mounts ?? []).map(volumeOf);
  const env = c.env.filter((v) => !BUILT_IN_ENV.test(v)).map((v) => {
    const i = v.indexOf("=");
    return { name: v.slice(0, i), value: v.slice(i + 1) };
  });
  const command = [...c.entrypoint, ...c.cmd];
  const spec: Obj = {
    ...(command.length ? { command } : {}),
    ...(env.length ? { env } : {}),
    image: c.image,
    name,
    ...(ports?.length
      ? {
        ports: ports.map((p) => ({
          containerPort: p.containerPort,
          ...(p.hostPort ? { hostPort: p.hostPort } : {}),
          ...(p.hostIp ? { hostIP: p.hostIp } : {}),
          ...(p.protocol === "udp" ? { protocol: "UDP" } : {}),
        })),
      }
      : {}),
    ...(livenessProbe(c) ? { livenessProbe: livenessProbe(c) } : {}),
    ...(resources(c) ? { resources: resources(c) } : {}),
    ...(securityContext(c) ? { securityContext: securityContext(c) } : {}),
    ...(c.host.tty ? { tty: true } : {}),
    ...(mounts.length ? { volumeMounts: mounts.map(([m]) => m) } : {}),
    ...(c.workdir && c.workdir !== "/" ? { workingDir: c.workdir } : {}),
  };
  return [spec, mounts.map(([, v]) => v)];
}

/** Podman's per-container annotations. */
function annotations(c: ContainerConfig, name: string, podId?: string): Obj {
  const flag = (b: boolean | undefined) => b ? "TRUE" : "FALSE";
  return {
    ...(podId
      ? {
        [`io.kubernetes.cri-o.ContainerType/${name}`]: "container",
        // Kubernetes allows 63 characters in an annotation's value here.
        [`io.kubernetes.cri-o.SandboxID/${name}`]: podId.slice(0, 63),
      }
      : {}),
    [`io.kubernetes.cri-o.TTY/${name}`]: String(!!c.host.tty),
    [`io.podman.annotations.autoremove/${name}`]: flag(c.host.autoRemove),
    [`io.podman.annotations.init/${name}`]: flag(c.host.init),
    [`io.podman.annotations.privileged/${name}`]: flag(c.host.privileged),
    [`io.podman.annotations.publish-all/${name}`]: "FALSE",
  };
}

/** What a Pod is made of: its name, containers, ports and settings. */
interface PodSource {
  name: string;
  id?: string;
  hostname?: string;
  containers: ContainerConfig[];
  ports: NonNullable<ContainerConfig["host"]["ports"]>;
  labels: Record<string, string>;
}

/** The sources `refs` name: each pod, and the loose containers as one pod. */
async function sources(e: Engine, refs: string[]): Promise<PodSource[]> {
  if (refs.length === 0) {
    throw invalid("generate kube: at least one container or pod is required");
  }
  const out: PodSource[] = [];
  const loose: ContainerConfig[] = [];
  for (const ref of refs) {
    let pod;
    try {
      pod = e.store(PodStore).find(ref);
    } catch (err) {
      if (!isKind(err, "not-found")) throw err;
    }
    if (pod) {
      const all = await podContainers(e, pod.id);
      const infra = all.find((c) => c.id === pod.infraId);
      out.push({
        name: pod.name,
        id: pod.id,
        hostname: pod.hostname,
        containers: all.filter((c) => c !== infra),
        ports: infra?.host.ports ?? [],
        labels: pod.labels,
      });
      continue;
    }
    let c;
    try {
      c = containerStore(e).find(ref);
    } catch (err) {
      // Neither a pod nor a container: Podman's line says so.
      if (isKind(err, "not-found")) {
        throw notFound(`name or ID ${JSON.stringify(ref)} not found`);
      }
      throw err;
    }
    if (c.host.pod) {
      throw invalid(
        `container ${c.id} is associated with pod ${c.host.pod}: use generate on the pod itself`,
      );
    }
    if (c.rootfs) {
      throw invalid(
        `container ${c.name} runs on a --rootfs directory: Kubernetes needs an image`,
      );
    }
    loose.push(c);
  }
  if (loose.length > 0) {
    out.push({
      name: `${loose[0].name}-pod`,
      containers: loose,
      ports: loose.flatMap((c) => c.host.ports ?? []),
      labels: {},
    });
  }
  return out;
}

/** The Pod (and Service) objects of one source. */
function objectsOf(
  src: PodSource,
  req: GenerateKubeRequest,
  now: Scalar,
): Obj[] {
  const volumes = new Map<string, Obj>();
  const specs = (list: ContainerConfig[]) =>
    list.map((c) => {
      const [spec, vols] = containerSpec(
        c,
        src.id ? src.ports : c.host.ports,
        c.name,
      );
      for (const v of vols) volumes.set(v.name as string, v);
      return spec;
    });
  // --init-ctr containers are the pod's initContainers, as Podman writes them.
  const apps = src.containers.filter((c) => !c.host.initCtr);
  const containers = specs(apps);
  const inits = src.containers.filter((c) => c.host.initCtr);
  const initContainers = specs(inits);
  if (containers.length === 0) {
    throw invalid(`pod ${src.name} has no containers to generate`);
  }
  const restart = RESTART[apps[0].host.restartPolicy.name];
  const labels = { ...src.labels, app: src.name };
  const podSpec: Obj = {
    automountServiceAccountToken: false,
    containers,
    enableServiceLinks: false,
    ...(src.hostname ? { hostname: src.hostname } : {}),
    ...(initContainers.length ? { initContainers } : {}),
    ...(restart ? { restartPolicy: restart } : {}),
    ...(volumes.size ? { volumes: [...volumes.values()] } : {}),
  };
  const metadata = {
    annotations: Object.assign(
      {},
      ...src.containers.map((c) => annotations(c, c.name, src.id)),
      // Played back (by ptd or Podman), init containers are "once" unless
      // the pod says otherwise: one annotation says it for all of them.
      inits.length > 0 && inits.every((c) => c.host.initCtr === "always")
        ? { [INIT_CTR_ANNOTATION]: "always" }
        : {},
    ),
    creationTimestamp: now,
    labels,
    name: src.name,
  };
  const out: Obj[] = [];
  if (req.service && src.ports.some((p) => p.hostPort)) {
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { creationTimestamp: now, labels, name: src.name },
      spec: {
        ports: src.ports.filter((p) => p.hostPort).map((p) => ({
          name: String(p.containerPort),
          // A NodePort must lie in the cluster's 30000-32767 range.
          nodePort: 30000 + p.hostPort % 2768,
          port: p.containerPort,
          ...(p.protocol === "udp" ? { protocol: "UDP" } : {}),
          targetPort: p.containerPort,
        })),
        selector: { app: src.name },
        type: "NodePort",
      },
    });
  }
  if (req.type === "deployment") {
    out.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        creationTimestamp: now,
        labels,
        name: `${src.name}-deployment`,
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: src.name } },
        template: {
          metadata: {
            annotations: metadata.annotations,
            creationTimestamp: now,
            labels,
          },
          spec: { ...podSpec, restartPolicy: "Always" },
        },
      },
    });
  } else {
    out.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata,
      spec: podSpec,
      // Podman writes an empty status for a pod, none for loose containers.
      ...(src.id ? { status: {} } : {}),
    });
  }
  return out;
}

/** `generate kube`: the YAML for `req.refs`, Podman's header first. */
export async function generateKube(
  e: Engine,
  req: GenerateKubeRequest,
): Promise<string> {
  if (req.type !== undefined && !["pod", "deployment"].includes(req.type)) {
    throw invalid(
      `invalid generated kube type "${req.type}": only pod and deployment are supported`,
    );
  }
  // Quoted, as Go's YAML writes a string that would read as a timestamp.
  const now = new Scalar(new Date().toISOString().replace(/\.\d+Z$/, "Z"));
  now.type = "QUOTE_DOUBLE";
  const srcs = await sources(e, req.refs);
  const docs = srcs.flatMap((s) => objectsOf(s, req, now));
  const volumes = srcs.some((s) =>
    s.containers.some((c) => (c.mounts ?? []).length > 0)
  );
  // Keys sorted: Podman's YAML goes through JSON to sigs.k8s.io/yaml, which
  // sorts them.
  return HEADER + (volumes ? VOLUME_NOTE : "") +
    docs.map((d) => stringify(d, { indentSeq: false, sortMapEntries: true }))
      .join("---\n") +
    "\n";
}
