/**
 * What ptd takes from the Kubernetes objects it plays: the fields it acts
 * on, and the names of the fields it does not (each named in a warning,
 * never silently dropped); the pods a workload makes and the data of
 * ConfigMaps and Secrets.
 */
import { Buffer } from "node:buffer";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { KubeObject } from "./schema.ts";

/** The fields of each part ptd acts on; "*" takes everything below. */
const SUPPORTED: Record<string, string[]> = {
  metadata: ["name", "labels", "annotations", "creationTimestamp", "namespace"],
  pod: [
    "containers",
    "initContainers",
    "volumes",
    "restartPolicy",
    "hostname",
    "hostNetwork",
    "automountServiceAccountToken",
    "enableServiceLinks",
    "terminationGracePeriodSeconds",
  ],
  container: [
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "workingDir",
    "env",
    "envFrom",
    "ports",
    "volumeMounts",
    "securityContext",
    "livenessProbe",
    "tty",
    "stdin",
    "resources",
    "terminationMessagePath",
    "terminationMessagePolicy",
  ],
  securityContext: [
    "capabilities",
    "privileged",
    "readOnlyRootFilesystem",
    "runAsUser",
    "runAsGroup",
    "allowPrivilegeEscalation",
  ],
  volumeMount: ["name", "mountPath", "readOnly"],
  volume: [
    "name",
    "persistentVolumeClaim",
    "hostPath",
    "emptyDir",
    "configMap",
    "secret",
  ],
  livenessProbe: [
    "exec",
    "httpGet",
    "tcpSocket",
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "failureThreshold",
  ],
  httpGet: ["path", "port", "host", "scheme"],
  resources: ["limits", "requests"],
  limits: ["memory", "cpu"],
  requests: ["memory"],
  deployment: ["replicas", "selector", "template", "strategy"],
  daemonset: ["selector", "template"],
};

function unknownKeys(
  // deno-lint-ignore no-explicit-any
  obj: any,
  part: string,
  path: string,
  out: string[],
) {
  if (obj === null || typeof obj !== "object") return;
  for (const key of Object.keys(obj)) {
    if (!SUPPORTED[part].includes(key)) out.push(`${path}.${key}`);
  }
}

/** The pod spec's fields ptd does not act on, as paths. */
// deno-lint-ignore no-explicit-any
function unsupportedInPod(spec: any, path: string, out: string[]) {
  unknownKeys(spec, "pod", path, out);
  for (const list of ["initContainers", "containers"]) {
    for (const [i, c] of (spec[list] ?? []).entries()) {
      const at = `${path}.${list}[${i}]`;
      unknownKeys(c, "container", at, out);
      unknownKeys(
        c.securityContext,
        "securityContext",
        `${at}.securityContext`,
        out,
      );
      unknownKeys(c.livenessProbe, "livenessProbe", `${at}.livenessProbe`, out);
      for (const [j, m] of (c.volumeMounts ?? []).entries()) {
        unknownKeys(m, "volumeMount", `${at}.volumeMounts[${j}]`, out);
      }
      unknownKeys(c.resources, "resources", `${at}.resources`, out);
      for (const part of ["limits", "requests"]) {
        const list = c.resources?.[part];
        unknownKeys(list, part, `${at}.resources.${part}`, out);
      }
      unknownKeys(
        c.livenessProbe?.httpGet,
        "httpGet",
        `${at}.livenessProbe.httpGet`,
        out,
      );
    }
  }
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    unknownKeys(v, "volume", `${path}.volumes[${i}]`, out);
  }
}

/** Paths of the fields of `obj` that ptd does not act on. */
export function unsupportedFields(obj: KubeObject): string[] {
  const out: string[] = [];
  unknownKeys(obj.metadata, "metadata", "metadata", out);
  if (obj.kind === "Pod") unsupportedInPod(obj.spec ?? {}, "spec", out);
  if (obj.kind === "Deployment" || obj.kind === "DaemonSet") {
    unknownKeys(obj.spec, obj.kind.toLowerCase(), "spec", out);
    unsupportedInPod(
      obj.spec?.template?.spec ?? {},
      "spec.template.spec",
      out,
    );
  }
  return out.map((p) => `${obj.kind} ${obj.metadata.name}: ${p}`);
}

/**
 * Podman's pod annotation naming the kind of its init containers (absent:
 * "once"), which `play kube` reads.
 */
export const INIT_CTR_ANNOTATION = "io.podman.annotations.init.container.type";

/** A pod a workload makes: its name, labels, annotations and spec. */
export interface PodPlan {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: IPodSpec;
}

/**
 * The pods of a Pod, Deployment (one per replica, `NAME-pod-N` as Podman
 * names them) or DaemonSet (one: this host is the one node).
 */
export function podsOf(obj: KubeObject): PodPlan[] {
  if (obj.kind === "Pod") {
    return [{
      name: obj.metadata.name!,
      labels: obj.metadata.labels ?? {},
      annotations: obj.metadata.annotations ?? {},
      spec: obj.spec ?? {},
    }];
  }
  const template = obj.spec?.template ?? {};
  const meta = {
    labels: { ...template.metadata?.labels, ...obj.metadata.labels },
    annotations: {
      ...template.metadata?.annotations,
      ...obj.metadata.annotations,
    },
  };
  if (obj.kind === "DaemonSet") {
    return [{ name: `${obj.metadata.name}-pod`, ...meta, spec: template.spec }];
  }
  const replicas = obj.spec?.replicas ?? 1;
  return Array.from({ length: replicas }, (_, i) => ({
    name: `${obj.metadata.name}-pod-${i}`,
    ...meta,
    spec: template.spec,
  }));
}

/** The key-value data of a ConfigMap or (decoded) Secret. */
export function dataOf(obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = { ...obj.stringData };
  if (obj.kind === "Secret") {
    for (const [k, v] of Object.entries(obj.data ?? {})) {
      out[k] = Buffer.from(v as string, "base64").toString();
    }
  } else Object.assign(out, obj.data);
  return out;
}
