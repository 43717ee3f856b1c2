/**
 * Kubernetes YAML in: the documents of a manifest parsed (`yaml`, the YAML
 * 1.2 parser most JavaScript tools use: multi-document streams, line
 * numbers in its errors) and each checked against Kubernetes' own object
 * schema (`kubernetes-models`: classes generated from the Kubernetes
 * OpenAPI spec, each with an ajv validator precompiled from its JSON
 * schema), so a bad field type is refused with the field's path, as the
 * API server would refuse it, before anything is made.
 */
import process from "node:process";
import { parseAllDocuments } from "yaml";
import { invalid } from "../runtime/errors.ts";

/** One object of a manifest. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // deno-lint-ignore no-explicit-any
  [field: string]: any;
}

// deno-lint-ignore no-explicit-any
type Model = new (doc: any) => { validate(): void };

/** The kinds ptd plays: their apiVersion and schema (loaded when asked). */
const KINDS: Record<
  string,
  { apiVersion: string; model: () => Promise<Model> }
> = {
  Pod: {
    apiVersion: "v1",
    model: async () => (await import("kubernetes-models/v1/Pod")).Pod,
  },
  Deployment: {
    apiVersion: "apps/v1",
    model: async () =>
      (await import("kubernetes-models/apps/v1/Deployment")).Deployment,
  },
  DaemonSet: {
    apiVersion: "apps/v1",
    model: async () =>
      (await import("kubernetes-models/apps/v1/DaemonSet")).DaemonSet,
  },
  PersistentVolumeClaim: {
    apiVersion: "v1",
    model: async () =>
      (await import("kubernetes-models/v1/PersistentVolumeClaim"))
        .PersistentVolumeClaim,
  },
  ConfigMap: {
    apiVersion: "v1",
    model: async () =>
      (await import("kubernetes-models/v1/ConfigMap")).ConfigMap,
  },
  Secret: {
    apiVersion: "v1",
    model: async () => (await import("kubernetes-models/v1/Secret")).Secret,
  },
  Service: {
    apiVersion: "v1",
    model: async () => (await import("kubernetes-models/v1/Service")).Service,
  },
};

/** "/spec/containers/0/image" as a field path: spec.containers[0].image. */
export function fieldPath(pointer: string): string {
  return pointer.split("/").filter((s) => s !== "").reduce(
    (out, s) => /^\d+$/.test(s) ? `${out}[${s}]` : out ? `${out}.${s}` : s,
    "",
  );
}

interface AjvError {
  instancePath: string;
  message?: string;
  params?: { additionalProperty?: string };
}

/** Checks `doc` against its kind's schema; throws with the field's path. */
async function validate(doc: KubeObject, where: string): Promise<void> {
  // Set before a schema is loaded: the punycode module its format checker
  // requires is deprecated in Deno's Node layer, and the warning would
  // spoil stderr.
  (process as { noDeprecation?: boolean }).noDeprecation = true;
  const Model = await KINDS[doc.kind].model();
  try {
    new Model(doc).validate();
  } catch (err) {
    const first = (err as { errors?: AjvError[] }).errors?.[0];
    if (!first) throw err;
    const path = fieldPath(first.instancePath) || "(root)";
    throw invalid(`${where}: ${doc.kind} ${path}: ${first.message}`);
  }
}

/**
 * The objects of the manifest `text` (`source` names it in errors), each
 * of a kind ptd knows and valid against its schema.
 */
export async function parseManifest(
  text: string,
  source: string,
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    const where = `${source}: document ${i + 1}`;
    if (!("errors" in doc)) throw invalid(`${where}: not a YAML document`);
    if (doc.errors.length > 0) {
      throw invalid(
        `${where}: invalid YAML: ${doc.errors[0].message.split("\n")[0]}`,
      );
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    if (typeof obj !== "object" || Array.isArray(obj)) {
      throw invalid(`${where}: a Kubernetes object must be a YAML mapping`);
    }
    const { apiVersion, kind } = obj as KubeObject;
    if (typeof kind !== "string" || !(kind in KINDS)) {
      throw invalid(
        `${where}: kind ${JSON.stringify(kind ?? "")} is not supported: only ${
          Object.keys(KINDS).join(", ")
        }`,
      );
    }
    if (apiVersion !== KINDS[kind].apiVersion) {
      throw invalid(
        `${where}: ${kind} apiVersion: ${
          JSON.stringify(apiVersion ?? "")
        } is not ${KINDS[kind].apiVersion}`,
      );
    }
    await validate(obj as KubeObject, where);
    if (typeof obj.metadata?.name !== "string" || obj.metadata.name === "") {
      throw invalid(`${where}: ${kind} metadata.name: required`);
    }
    out.push(obj as KubeObject);
  }
  if (out.length === 0) throw invalid(`${source}: no Kubernetes objects`);
  return out;
}
