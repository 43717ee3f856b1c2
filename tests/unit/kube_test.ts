/**
 * Kubernetes YAML in, without containers: documents checked against the
 * schemas with the offending field's path, unsupported fields named, the
 * pods a workload makes, ConfigMap and Secret data.
 */
import assert from "node:assert/strict";
import { buildDirName } from "../../src/kube/build.ts";
import { dataOf, podsOf, unsupportedFields } from "../../src/kube/objects.ts";
import { quantity, resourcesOf } from "../../src/kube/resources.ts";
import {
  fieldPath,
  type KubeObject,
  parseManifest,
} from "../../src/kube/schema.ts";

Deno.test("a JSON pointer becomes a field path", () => {
  assert.equal(
    fieldPath("/spec/containers/0/ports/1/containerPort"),
    "spec.containers[0].ports[1].containerPort",
  );
});

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: busybox
`;

Deno.test("multi-document YAML: each object, empty documents skipped", async () => {
  const objs = await parseManifest(`---\n${POD}---\n---\n${POD}`, "f.yaml");
  assert.deepEqual(objs.map((o) => o.kind), ["Pod", "Pod"]);
});

Deno.test("a bad field type is refused with its path", async () => {
  await assert.rejects(
    parseManifest(POD.replace("image: busybox", "image: [1]"), "f.yaml"),
    /^PtdError: f\.yaml: document 1: Pod spec\.containers\[0\]\.image: must be string$/,
  );
  await assert.rejects(
    parseManifest(POD.replace("name: p", "name: 7"), "f.yaml"),
    /Pod metadata\.name: must be string/,
  );
});

Deno.test("unknown kinds and wrong apiVersions are refused", async () => {
  await assert.rejects(
    parseManifest(POD.replace("kind: Pod", "kind: Job"), "f"),
    /kind "Job" is not supported/,
  );
  await assert.rejects(
    parseManifest(POD.replace("apiVersion: v1", "apiVersion: v2"), "f"),
    /Pod apiVersion: "v2" is not v1/,
  );
  await assert.rejects(
    parseManifest("a: [", "f"),
    /f: document 1: invalid YAML/,
  );
});

Deno.test("unsupported fields are named by path", () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: {
      nodeSelector: { a: "b" },
      containers: [{ name: "c", image: "i", readinessProbe: {} }, {
        name: "d",
        image: "i",
        livenessProbe: {
          httpGet: { port: 80, httpHeaders: [] },
          grpc: { port: 9 },
        },
      }],
    },
  } as KubeObject;
  assert.deepEqual(unsupportedFields(pod), [
    "Pod p: spec.nodeSelector",
    "Pod p: spec.containers[0].readinessProbe",
    "Pod p: spec.containers[1].livenessProbe.grpc",
    "Pod p: spec.containers[1].livenessProbe.httpGet.httpHeaders",
  ]);
});

Deno.test("a Deployment makes a pod per replica, a DaemonSet one", () => {
  const spec = { containers: [{ name: "c" }] };
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d" },
    spec: { replicas: 3, template: { metadata: { labels: { a: "1" } }, spec } },
  } as KubeObject;
  assert.deepEqual(podsOf(deployment).map((p) => p.name), [
    "d-pod-0",
    "d-pod-1",
    "d-pod-2",
  ]);
  assert.deepEqual(podsOf(deployment)[0].labels, { a: "1" });
  assert.deepEqual(
    podsOf({ ...deployment, kind: "DaemonSet" }).map((p) => p.name),
    ["d-pod"],
  );
});

Deno.test("a Secret's data is decoded, a ConfigMap's taken as it is", () => {
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "s" },
    data: { pw: btoa("hunter2") },
    stringData: { user: "me" },
  } as KubeObject;
  assert.deepEqual(dataOf(secret), { user: "me", pw: "hunter2" });
  assert.deepEqual(
    dataOf({ ...secret, kind: "ConfigMap", data: { k: "v" } }),
    { user: "me", k: "v" },
  );
});

Deno.test("play kube --build looks for the directory of the image's last name", () => {
  assert.equal(buildDirName("foo"), "foo");
  assert.equal(buildDirName("localhost:5000/team/web:1.2"), "web");
  assert.equal(buildDirName("quay.io/app@sha256:abc"), "app");
});

Deno.test("resources: Kubernetes quantities as bytes and CPUs", () => {
  assert.equal(quantity("128Mi", "x"), 128 * 2 ** 20);
  assert.equal(quantity("1G", "x"), 1e9);
  assert.equal(quantity("500m", "x"), 0.5);
  assert.equal(quantity(2, "x"), 2);
  assert.throws(
    () => quantity("1.2.3", "at"),
    /^PtdError: at: "1.2.3" is not a quantity$/,
  );
  assert.deepEqual(
    resourcesOf({
      name: "c",
      resources: {
        limits: { memory: "1Gi", cpu: "1.5" },
        requests: { memory: "256Mi", cpu: "1" },
      },
    }),
    { memory: 2 ** 30, nanoCpus: 1.5e9, memoryReservation: 256 * 2 ** 20 },
  );
  assert.equal(resourcesOf({ name: "c" }), undefined);
});
