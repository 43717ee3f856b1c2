/**
 * Kubernetes YAML out and in (issue 20), rootless: a web pod played from a
 * manifest (a ConfigMap env, a PersistentVolumeClaim, a published port),
 * generated back with `generate kube -s`, checked against Kubernetes'
 * schemas, run by Podman and by ptd again; Deployments with replicas;
 * `--down`; Podman's own generated YAML under ptd; bad manifests refused
 * with nothing left behind.
 */
import assert from "node:assert/strict";
import { storeBusyboxForBoth, storeBusyboxImage } from "../busybox_image.ts";
import {
  freePort,
  ok,
  ptd,
  until,
  withSandbox as withStore,
} from "../helpers.ts";
import type { Sandbox } from "../helpers.ts";
import {
  bothEngines,
  hasPodman,
  podman,
  podmanOk,
  sideBySide,
  stopPodmanPause,
} from "../podman.ts";
import { parseManifest } from "../../src/kube/schema.ts";

const IMAGE = "localhost/kbox";

/**
 * A sandbox whose pods go before its store: the plain one removes
 * containers in `ps` order, and a pod's infra container, refused while
 * its pod's others exist, would outlive the store and keep running.
 */
function withSandbox(fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  return withStore(async (sb) => {
    try {
      await fn(sb);
    } finally {
      await ptd(sb, ["pod", "rm", "-fa"]);
    }
  });
}

/** The web pod's manifest: page text from a ConfigMap, kept in a PVC. */
function webManifest(port: number): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  GREETING: hello-from-kube
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: webdata
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Mi
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: srv
    image: ${IMAGE}
    command: [/bin/sh, -c, 'echo "$GREETING" > /data/index.html && exec httpd -f -p 8080 -h /data']
    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef:
          name: web-config
          key: GREETING
    ports:
    - containerPort: 8080
      hostPort: ${port}
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: webdata
`;
}

/** The page at the port, once it answers. */
async function page(port: number): Promise<string> {
  let text = "";
  await until(async () => {
    try {
      text = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      return true;
    } catch {
      return false;
    }
  }, 20_000);
  return text.trim();
}

/**
 * A test with Podman beside ptd (skipped without it): both hold the
 * busybox image; Podman's pods and containers and its pause process go
 * when it ends.
 */
function withPodman(name: string, fn: (sb: Sandbox) => Promise<void>) {
  Deno.test({
    name,
    ignore: !hasPodman(),
    fn: () =>
      withSandbox(async (sb) => {
        try {
          await storeBusyboxForBoth(sb, IMAGE);
          await fn(sb);
        } finally {
          await podman(sb, ["pod", "rm", "-fa"]);
          await podman(sb, ["rm", "-fa"]);
          stopPodmanPause(sb);
        }
      }),
  });
}

const lines = (text: string) => text.split("\n").filter(Boolean);

async function nothingLeft(sb: Sandbox) {
  assert.deepEqual(lines(ok(await ptd(sb, ["pod", "ps", "-q"]))), []);
  assert.deepEqual(lines(ok(await ptd(sb, ["ps", "-aq"]))), []);
  assert.deepEqual(lines(ok(await ptd(sb, ["volume", "ls", "-q"]))), []);
}

withPodman(
  "a played web pod, generated with -s, validates and runs under Podman and ptd; --down --force removes it all",
  async (sb) => {
    const port = freePort();
    const manifest = `${sb.dir}/web.yaml`;
    Deno.writeTextFileSync(manifest, webManifest(port));
    const played = ok(await ptd(sb, ["play", "kube", manifest]));
    assert.match(
      played,
      /^Volumes:\nwebdata\nPod:\n[0-9a-f]{64}\nContainer:\n[0-9a-f]{64}$/,
    );
    assert.equal(await page(port), "hello-from-kube");

    const generated = `${sb.dir}/gen.yaml`;
    ok(await ptd(sb, ["generate", "kube", "-s", "-f", generated, "web"]));
    const yaml = Deno.readTextFileSync(generated);
    assert.match(yaml, /^# Save the output of this file/);
    const objs = await parseManifest(yaml, generated);
    assert.deepEqual(objs.map((o) => o.kind), ["Service", "Pod"]);
    const ctr = objs[1].spec.containers[0];
    assert.deepEqual(ctr.env, [{
      name: "GREETING",
      value: "hello-from-kube",
    }]);
    assert.deepEqual(ctr.ports, [{ containerPort: 8080, hostPort: port }]);
    assert.deepEqual(objs[1].spec.volumes, [{
      name: "webdata-pvc",
      persistentVolumeClaim: { claimName: "webdata" },
    }]);
    assert.equal(objs[0].spec.type, "NodePort");
    const deployment = await parseManifest(
      ok(await ptd(sb, ["generate", "kube", "--type", "deployment", "web"])),
      "deployment",
    );
    assert.deepEqual(deployment.map((o) => o.kind), ["Deployment"]);
    assert.equal(
      deployment[0].spec.template.spec.containers[0].image,
      `${IMAGE}:latest`,
    );

    ok(await ptd(sb, ["pod", "rm", "-f", "web"]));
    await podmanOk(sb, ["volume", "create", "webdata"]);
    const peer = await podman(sb, ["play", "kube", generated]);
    assert.equal(peer.code, 0, new TextDecoder().decode(peer.stderr));
    assert.equal(await page(port), "hello-from-kube");
    await podmanOk(sb, ["play", "kube", "--down", generated]);

    ok(await ptd(sb, ["play", "kube", generated]));
    assert.equal(await page(port), "hello-from-kube");
    const down = ok(
      await ptd(sb, ["play", "kube", "--down", "--force", manifest]),
    );
    assert.match(
      down,
      /Pods removed:\n[0-9a-f]{64}\nVolumes removed:\nwebdata$/,
    );
    await nothingLeft(sb);
  },
);

const DEPLOYMENT = `apiVersion: v1
kind: Secret
metadata:
  name: sleepy-secret
data:
  mode: ${btoa("fast")}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sleepy
spec:
  replicas: 2
  selector:
    matchLabels:
      app: sleepy
  template:
    metadata:
      labels:
        app: sleepy
    spec:
      nodeSelector:
        disk: ssd
      initContainers:
      - name: prep
        image: ${IMAGE}
        command: [/bin/sh, -c, "sleep 1; echo prepped > /shared/ready"]
        volumeMounts:
        - {name: shared, mountPath: /shared}
      containers:
      - name: main
        image: ${IMAGE}
        command: [/bin/sh, -c, "cp /shared/ready /shared/seen && exec sleep 1000"]
        envFrom:
        - secretRef: {name: sleepy-secret}
        volumeMounts:
        - {name: shared, mountPath: /shared}
        - {name: conf, mountPath: /etc/conf}
      volumes:
      - name: shared
        emptyDir: {}
      - name: conf
        secret: {secretName: sleepy-secret}
`;

Deno.test("a Deployment with 2 replicas plays as two running pods; kube down removes them", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const r = await ptd(sb, ["kube", "play", "-"], { stdin: DEPLOYMENT });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /WARN: unsupported fields are ignored: Deployment sleepy: spec\.template\.spec\.nodeSelector/,
    );
    const pods = ok(
      await ptd(sb, ["pod", "ps", "--format", "{{.Name}} {{.Status}}"]),
    );
    assert.deepEqual(lines(pods).sort(), [
      "sleepy-pod-0 Running",
      "sleepy-pod-1 Running",
    ]);
    const names = ok(await ptd(sb, ["ps", "--format", "{{.Names}}"]));
    assert.ok(lines(names).includes("sleepy-pod-1-main"), names);
    // The init container ran to its end before the main one started.
    assert.equal(
      ok(await ptd(sb, ["exec", "sleepy-pod-1-main", "cat", "/shared/seen"])),
      "prepped",
    );
    // A Secret as env and as files.
    assert.equal(
      ok(
        await ptd(sb, [
          "exec",
          "sleepy-pod-0-main",
          "sh",
          "-c",
          "echo $mode $(cat /etc/conf/mode)",
        ]),
      ),
      "fast fast",
    );
    const taken = await ptd(sb, ["kube", "play", "-"], { stdin: DEPLOYMENT });
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /"sleepy-pod-0" is in use/);
    const ids = ok(await ptd(sb, ["pod", "ps", "-q"]));
    const again = await ptd(sb, ["play", "kube", "--replace", "-"], {
      stdin: DEPLOYMENT,
    });
    assert.equal(again.code, 0, again.stderr);
    const now = ok(await ptd(sb, ["pod", "ps", "-q"]));
    assert.equal(lines(now).length, 2);
    assert.ok(lines(now).every((id) => !ids.includes(id)), "replaced");
    ok(await ptd(sb, ["kube", "down", "-"], { stdin: DEPLOYMENT }));
    await nothingLeft(sb);
    const gone = await ptd(sb, ["kube", "down", "-"], { stdin: DEPLOYMENT });
    assert.equal(gone.code, 125);
    assert.equal(
      gone.stderr.trim(),
      "Error: no pod with name or ID sleepy-pod-0 found: no such pod",
    );
  });
});

withPodman(
  "a manifest written by podman generate kube plays under ptd",
  async (sb) => {
    await podmanOk(sb, ["pod", "create", "--name", "pp"]);
    await podmanOk(sb, [
      "create",
      "--pod",
      "pp",
      "--name",
      "box",
      "-e",
      "WHO=podman",
      "-w",
      "/tmp",
      IMAGE,
      "sleep",
      "1000",
    ]);
    const yaml = await podmanOk(sb, ["generate", "kube", "pp"]);
    await podman(sb, ["pod", "rm", "-f", "pp"]);
    const r = await ptd(sb, ["play", "kube", "-"], { stdin: yaml });
    assert.equal(r.code, 0, r.stderr);
    const env = ok(
      await ptd(sb, ["exec", "pp-box", "sh", "-c", "echo $WHO $PWD"]),
    );
    assert.equal(env, "podman /tmp");
    ok(await ptd(sb, ["play", "kube", "--down", "-"], { stdin: yaml }));
    await nothingLeft(sb);
  },
);

Deno.test("--configmap FILE feeds a pod's env; --start=false only creates; --network, --log-driver", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const conf = `${sb.dir}/conf.yaml`;
    Deno.writeTextFileSync(
      conf,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside\ndata:\n  COLOR: blue\n",
    );
    const pod =
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: cm\nspec:\n  containers:\n  - name: c\n    image: ${IMAGE}\n    command: [sleep, "1000"]\n    envFrom:\n    - configMapRef: {name: outside}\n`;
    const missing = await ptd(sb, ["play", "kube", "-"], { stdin: pod });
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /ConfigMap "outside" not found/);
    // The manifest from a URL, as Podman reads one.
    const port = freePort();
    const server = Deno.serve(
      { port, hostname: "127.0.0.1", onListen: () => {} },
      (r) =>
        new URL(r.url).pathname === "/pod.yaml"
          ? new Response(pod)
          : new Response("not here", { status: 404 }),
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      const lost = await ptd(sb, ["play", "kube", `${url}/lost.yaml`]);
      assert.equal(lost.code, 125);
      assert.match(lost.stderr, /lost\.yaml: 404 Not Found/);
      ok(
        await ptd(sb, [
          "play",
          "kube",
          "--configmap",
          conf,
          "--start=false",
          "--network",
          "none",
          "--log-driver",
          "json-file",
          `${url}/pod.yaml`,
        ]),
      );
    } finally {
      await server.shutdown();
    }
    const state = ok(
      await ptd(sb, [
        "ps",
        "-a",
        "--filter",
        "name=cm-c",
        "--format",
        "{{.State}}",
      ]),
    );
    assert.equal(state, "Created");
    ok(await ptd(sb, ["pod", "start", "cm"]));
    assert.equal(
      ok(await ptd(sb, ["exec", "cm-c", "sh", "-c", "echo $COLOR"])),
      "blue",
    );
    // --network none: the pod has its loopback only.
    assert.equal(
      ok(await ptd(sb, ["exec", "cm-c", "ls", "/sys/class/net"])),
      "lo",
    );
    const driver = ["inspect", "--format", "{{.HostConfig.LogConfig.Type}}"];
    assert.equal(ok(await ptd(sb, [...driver, "cm-c"])), "json-file");
  });
});

/** Manifests that must be refused: each with what its one line says. */
const REFUSED: { yaml: string; says: RegExp }[] = [
  { yaml: "kind: Pod\n  bad: [\n", says: /invalid YAML/ },
  {
    yaml: "apiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n",
    says: /kind "Widget" is not supported/,
  },
  {
    yaml: "apiVersion: apps/v1\nkind: Pod\nmetadata:\n  name: w\n",
    says: /Pod apiVersion: "apps\/v1" is not v1/,
  },
  {
    // A valid PVC first: refusing the pod after it must not leave the volume.
    yaml:
      `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: keep\nspec: {}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: c\n    image: ${IMAGE}\n    ports:\n    - containerPort: "eighty"\n`,
    says:
      /Pod spec\.containers\[0\]\.ports\[0\]\.containerPort: must be integer/,
  },
  {
    // Refused only once the volume and the pod exist: both must go again.
    yaml:
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: c\n    image: localhost/missing\n    imagePullPolicy: Never\n    volumeMounts:\n    - name: v\n      mountPath: /v\n  volumes:\n  - name: v\n    persistentVolumeClaim:\n      claimName: keep\n`,
    says: /localhost\/missing/,
  },
];

Deno.test("bad manifests are refused in one line with exit 125 and leave nothing", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    for (const { yaml, says } of REFUSED) {
      const r = await ptd(sb, ["play", "kube", "-"], { stdin: yaml });
      assert.equal(r.code, 125, yaml);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, says);
      await nothingLeft(sb);
    }
  });
});

/** The fields of a generated Pod both engines write alike. */
// deno-lint-ignore no-explicit-any
function comparable(objs: any[]) {
  return objs.map((o) => {
    const c = o.spec.containers?.[0] ?? {};
    return {
      kind: o.kind,
      name: o.metadata.name,
      labels: o.metadata.labels,
      ...(o.kind === "Pod"
        ? {
          container: {
            command: c.command,
            env: c.env,
            image: c.image,
            name: c.name,
            ports: c.ports,
            workingDir: c.workingDir,
            add: c.securityContext?.capabilities?.add,
            runAsUser: c.securityContext?.runAsUser,
            runAsGroup: c.securityContext?.runAsGroup,
            mounts: c.volumeMounts?.filter((m: { name: string }) =>
              m.name.endsWith("-pvc")
            ),
          },
          pvcs: o.spec.volumes?.filter((v: { name: string }) =>
            v.name.endsWith("-pvc")
          ),
        }
        : { ports: o.spec.ports.map((p: { port: number }) => p.port) }),
    };
  });
}

withPodman(
  "generate kube -s of one container: Podman 4.3's header, note and fields",
  async (sb) => {
    const args = [
      "create",
      "--name",
      "solo",
      "-e",
      "A=b",
      "-w",
      "/tmp",
      "-p",
      `${freePort()}:80`,
      "-v",
      "vv:/data",
      "--cap-add",
      "NET_ADMIN",
      "-u",
      "1000",
      "--health-cmd",
      "test -d /data",
      "--health-interval",
      "30s",
      "--restart",
      "on-failure",
      IMAGE,
      "sleep",
      "1000",
    ];
    await podmanOk(sb, args);
    ok(await ptd(sb, args));
    const theirs = await podmanOk(sb, ["generate", "kube", "-s", "solo"]);
    const ours = ok(await ptd(sb, ["generate", "kube", "-s", "solo"]));
    const head = (t: string) => t.slice(0, t.indexOf("apiVersion"));
    assert.equal(head(ours), head(theirs));
    const objs = await parseManifest(ours, "ptd");
    assert.deepEqual(
      comparable(objs),
      comparable(await parseManifest(theirs, "podman")),
    );
    // Beyond Podman 4.3, which drops both: the health check as a liveness
    // probe and the restart policy; played back, they are the container's.
    const pod = objs[1].spec;
    assert.deepEqual(pod.containers[0].livenessProbe, {
      exec: { command: ["/bin/sh", "-c", "test -d /data"] },
      periodSeconds: 30,
      timeoutSeconds: 30,
      failureThreshold: 3,
    });
    assert.equal(pod.restartPolicy, "OnFailure");
    ok(await ptd(sb, ["rm", "solo"]));
    ok(await ptd(sb, ["play", "kube", "--start=false", "-"], { stdin: ours }));
    const settings = [
      "inspect",
      "--format",
      "{{.Config.Healthcheck.Test}} {{.HostConfig.RestartPolicy.Name}}",
      "solo-pod-solo",
    ];
    assert.equal(
      ok(await ptd(sb, settings)),
      "[CMD /bin/sh -c test -d /data] on-failure",
    );
  },
);

/**
 * `ptd ARGS` from source, started in the directory `cwd` (play kube looks
 * for image directories there); the tests of a file run one at a time.
 */
async function ptdIn(sb: Sandbox, cwd: string, args: string[]) {
  const back = Deno.cwd();
  Deno.chdir(cwd);
  try {
    return await ptd(sb, args);
  } finally {
    Deno.chdir(back);
  }
}

Deno.test("play kube builds an image from NAME/Containerfile: when missing, always with --build, never with --build=false", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const app = `${sb.dir}/app`;
    Deno.mkdirSync(`${app}/foo`, { recursive: true });
    const containerfile = (word: string) =>
      Deno.writeTextFileSync(
        `${app}/foo/Containerfile`,
        `FROM ${IMAGE}\nRUN echo ${word} > /built\nCMD ["sleep", "1000"]\n`,
      );
    containerfile("built");
    // Never pulled: a build that does not happen fails, and says so.
    Deno.writeTextFileSync(
      `${app}/pod.yaml`,
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bp\nspec:\n  containers:\n  - name: c\n    image: foo\n    imagePullPolicy: Never\n",
    );
    const built = () => ptd(sb, ["exec", "bp-c", "cat", "/built"]);

    const first = await ptdIn(sb, app, ["play", "kube", "pod.yaml"]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^STEP 1\/3: FROM /);
    assert.match(first.stdout, /Successfully tagged localhost\/foo:latest\n/);
    assert.equal(ok(await built()), "built");

    containerfile("rebuilt");
    const again = await ptdIn(sb, app, [
      "play",
      "kube",
      "--replace",
      "pod.yaml",
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Pods stopped:\n[0-9a-f]{64}\nPods removed:\n/);
    assert.doesNotMatch(again.stdout, /STEP/, "the image is there: no build");
    assert.equal(ok(await built()), "built");

    // From elsewhere, with the directories' place given.
    const forced = await ptd(sb, [
      "play",
      "kube",
      "--replace",
      "--build",
      "--context-dir",
      app,
      `${app}/pod.yaml`,
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(ok(await built()), "rebuilt");

    ok(await ptd(sb, ["play", "kube", "--down", `${app}/pod.yaml`]));
    ok(await ptd(sb, ["rmi", "foo"]));
    const never = await ptdIn(sb, app, [
      "play",
      "kube",
      "--build=false",
      "pod.yaml",
    ]);
    assert.equal(never.code, 125);
    assert.match(never.stderr, /foo/);
    assert.doesNotMatch(never.stdout, /STEP/);
    assert.deepEqual(lines(ok(await ptd(sb, ["pod", "ps", "-q"]))), []);
  });
});

/** A pod whose init containers write, in turn, what its app reads. */
function initPod(name: string, first = "echo one > /s/log") {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  initContainers:
  - name: one
    image: ${IMAGE}
    command: [sh, -c, "${first}"]
    volumeMounts: [{name: s, mountPath: /s}]
  - name: two
    image: ${IMAGE}
    command: [sh, -c, "sleep 1; echo two >> /s/log"]
    volumeMounts: [{name: s, mountPath: /s}]
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, "cat /s/log > /s/seen; exec sleep 1000"]
    volumeMounts: [{name: s, mountPath: /s}]
  volumes:
  - name: s
    emptyDir: {}
`;
}

Deno.test("play kube: init containers run in order, to their end, before the app; a failing one stops the pod as Podman's does", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const r = await ptd(sb, ["play", "kube", "-"], { stdin: initPod("ip") });
    assert.equal(r.code, 0, r.stderr);
    // Podman reports the app's containers only.
    assert.match(
      r.stdout,
      /^Pod:\n[0-9a-f]{64}\nContainer:\n[0-9a-f]{64}\n\n$/,
    );
    assert.equal(
      ok(await ptd(sb, ["exec", "ip-main", "cat", "/s/seen"])),
      "one\ntwo",
    );
    // Once-only (Podman's kind for a manifest's): gone once they ran.
    const names = ok(await ptd(sb, ["ps", "-a", "--format", "{{.Names}}"]));
    assert.deepEqual(lines(names).filter((n) => n.startsWith("ip-")), [
      "ip-main",
    ]);

    const bad = await ptd(sb, ["play", "kube", "-"], {
      stdin: initPod("bad", "exit 3"),
    });
    assert.equal(bad.code, 125);
    const failed = ok(
      await ptd(sb, ["ps", "-aq", "--no-trunc", "--filter", "name=bad-one"]),
    );
    assert.equal(
      bad.stderr.trim(),
      `Error: init container ${failed} exited with code 3`,
    );
    // The pod stays, as Podman leaves it: its init container's log is there.
    const states = ok(
      await ptd(sb, [
        "ps",
        "-a",
        "--filter",
        "name=bad-",
        "--format",
        "{{.Names}} {{.State}}",
      ]),
    );
    assert.match(states, /bad-two Created/);
    assert.match(states, /bad-main Created/);

    // --start=false: the init containers run at the pod's start.
    ok(
      await ptd(sb, ["play", "kube", "--start=false", "-"], {
        stdin: initPod("later"),
      }),
    );
    ok(await ptd(sb, ["pod", "start", "later"]));
    assert.equal(
      ok(await ptd(sb, ["exec", "later-main", "cat", "/s/seen"])),
      "one\ntwo",
    );

    const refused = await ptd(sb, ["play", "kube", "-"], {
      stdin: initPod("probed").replace(
        "  - name: two\n",
        '    livenessProbe: {exec: {command: ["true"]}}\n  - name: two\n',
      ),
    });
    assert.equal(refused.code, 125);
    assert.match(
      refused.stderr,
      /cannot create an init container that has either of lifecycle, livenessProbe/,
    );
  });
});

Deno.test("play kube: a container that does not start is reported, the others run, and the play fails as Podman's", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const yaml =
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: nf\nspec:\n  containers:\n  - name: ok\n    image: ${IMAGE}\n    command: [sleep, "1000"]\n  - name: bad\n    image: ${IMAGE}\n    command: [/nonexistent]\n`;
    const r = await ptd(sb, ["play", "kube", "-"], { stdin: yaml });
    assert.equal(r.code, 125);
    assert.match(r.stdout, /^Pod:\n[0-9a-f]{64}\nContainers:\n/);
    const errs = lines(r.stderr);
    assert.match(errs[0], /^starting container [0-9a-f]{64}: /);
    assert.equal(errs.at(-1), "Error: failed to start 1 containers");
    const running = ok(await ptd(sb, ["ps", "--format", "{{.Names}}"]));
    assert.ok(lines(running).includes("nf-ok"), running);
  });
});

Deno.test({
  name:
    "Podman's errors: --init-ctr without a pod or of a bad kind, generate kube of nothing, down of no file, --context-dir alone",
  ignore: !hasPodman(),
  fn: () =>
    withSandbox(async (sb) => {
      const engines = bothEngines(sb);
      // Podman's pause process goes whatever happens.
      await sideBySide(sb, engines, async () => {
        for (
          const [args, says] of [
            [
              ["create", "--init-ctr", "always", IMAGE, "true"],
              "must specify pod value with init-ctr",
            ],
            [
              [
                "create",
                "--pod",
                "nopod",
                "--init-ctr",
                "bogus",
                IMAGE,
                "true",
              ],
              "init-ctr value must be 'always' or 'once'",
            ],
            [
              ["run", "--pod", "nopod", "--init-ctr", "once", IMAGE, "true"],
              "unknown flag: --init-ctr",
            ],
            [["generate", "kube", "nosuch"], 'name or ID "nosuch" not found'],
            [
              ["kube", "down", "nosuch.yaml"],
              "open nosuch.yaml: no such file or directory",
            ],
            [
              ["play", "kube", "--context-dir", "/tmp", "nosuch.yaml"],
              "--build must be specified when using --context-dir option",
            ],
          ] as const
        ) {
          for (const [name, run] of Object.entries(engines)) {
            const r = await run([...args]);
            assert.equal(r.code, 125, `${name} ${args.join(" ")}`);
            assert.equal(lines(r.stderr)[0], `Error: ${says}`, name);
          }
        }
      });
    }),
});

Deno.test("create --init-ctr: pod start runs always and once init containers first; once ones go; generate kube writes them as initContainers", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    ok(await ptd(sb, ["pod", "create", "--name", "p"]));
    const create = (name: string, more: string[], cmd: string) =>
      ptd(sb, [
        "create",
        "--pod",
        "p",
        "--name",
        name,
        "-v",
        "shared:/s",
        ...more,
        IMAGE,
        "sh",
        "-c",
        cmd,
      ]);
    // The app is made first: the init containers run before it all the same.
    ok(await create("m1", [], "cat /s/log > /s/seen; exec sleep 1000"));
    ok(await create("a1", ["--init-ctr", "always"], "echo a1 >> /s/log"));
    ok(await create("o1", ["--init-ctr", "once"], "echo o1 >> /s/log"));
    const objs = await parseManifest(
      ok(await ptd(sb, ["generate", "kube", "p"])),
      "generated",
    );
    const names = (list: { name: string }[]) => list.map((c) => c.name);
    assert.deepEqual(names(objs[0].spec.initContainers), ["a1", "o1"]);
    assert.deepEqual(names(objs[0].spec.containers), ["m1"]);

    ok(await ptd(sb, ["pod", "start", "p"]));
    const seen = () => ptd(sb, ["exec", "m1", "cat", "/s/seen"]);
    assert.equal(ok(await seen()), "a1\no1");
    const states = async () =>
      lines(
        ok(
          await ptd(sb, [
            "ps",
            "-a",
            "--filter",
            "name=[am]1",
            "--format",
            "{{.Names}} {{.Status}}",
          ]),
        ),
      ).map((l) =>
        l.split(" ").slice(0, l.includes("Exited") ? 3 : 2).join(" ")
      )
        .sort();
    assert.deepEqual(await states(), ["a1 Exited (0)", "m1 Up"]);
    // The pod runs: an exited init container is not one of its states.
    assert.equal(
      ok(await ptd(sb, ["pod", "ps", "--format", "{{.Status}}"])),
      "Running",
    );
    ok(await ptd(sb, ["pod", "restart", "p"]));
    assert.equal(ok(await seen()), "a1\no1\na1");
    assert.deepEqual(await states(), ["a1 Exited (0)", "m1 Up"]);

    // Its init containers all "always" now: the YAML says so, and plays so.
    const yaml = ok(await ptd(sb, ["generate", "kube", "p"]));
    assert.match(
      yaml,
      /io\.podman\.annotations\.init\.container\.type: always/,
    );
    ok(await ptd(sb, ["pod", "rm", "-f", "p"]));
    ok(await ptd(sb, ["play", "kube", "-"], { stdin: yaml }));
    const kept = ok(
      await ptd(sb, [
        "ps",
        "-a",
        "--filter",
        "name=p-a1",
        "--format",
        "{{.Status}}",
      ]),
    );
    assert.match(kept, /^Exited \(0\)/);
  });
});

Deno.test("play kube: exec, tcpSocket and httpGet liveness probes are health checks; a failed one restarts the container under its pod's policy", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const ctr = (name: string, command: string, probe: string) =>
      `  - name: ${name}\n    image: ${IMAGE}\n    command: ${command}\n    ports:\n    - {name: web, containerPort: 8080}\n    livenessProbe:\n      ${probe}\n      periodSeconds: 30\n      failureThreshold: 1\n`;
    const sleeper = "[sleep, '1000']";
    const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: pr
spec:
  terminationGracePeriodSeconds: 1
  containers:
${ctr("tcp", sleeper, "tcpSocket: {port: web}")}${
      ctr("http", sleeper, "httpGet: {path: /x, port: 8081}")
    }${
      ctr(
        "cmd",
        `[sh, -c, "touch /tmp/ok; exec sleep 1000"]`,
        "exec: {command: [test, -e, /tmp/ok]}",
      )
    }`;
    const r = await ptd(sb, ["play", "kube", "-"], { stdin: yaml });
    assert.equal(r.code, 0, r.stderr);
    const settings = (name: string) =>
      ptd(sb, [
        "inspect",
        "--format",
        "{{.Config.Healthcheck.Test}} {{.Config.HealthcheckOnFailureAction}}",
        `pr-${name}`,
      ]);
    assert.equal(
      ok(await settings("tcp")),
      "[CMD-SHELL nc -z -v localhost 8080] restart",
    );
    assert.equal(
      ok(await settings("http")),
      "[CMD-SHELL curl -f http://localhost:8081/x] restart",
    );
    assert.equal(ok(await settings("cmd")), "[CMD test -e /tmp/ok] restart");
    const check = async () =>
      (await ptd(sb, ["healthcheck", "run", "pr-cmd"])).code;
    assert.equal(await check(), 0);
    ok(await ptd(sb, ["exec", "pr-cmd", "rm", "/tmp/ok"]));
    assert.equal(await check(), 1);
    // Restarted, as the kubelet restarts a container that fails its probe.
    const count = ["inspect", "--format", "{{.RestartCount}}", "pr-cmd"];
    await until(async () => ok(await ptd(sb, count)) === "1");
    await until(async () => await check() === 0);
  });
});

Deno.test("play kube: resources.limits are the container's limits, or, where this host cannot enforce them, a warning says they are ignored", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    const yaml =
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: rs\nspec:\n  containers:\n  - name: c\n    image: ${IMAGE}\n    command: [sleep, "1000"]\n    resources:\n      limits: {memory: 128Mi, cpu: 500m}\n`;
    const r = await ptd(sb, ["play", "kube", "--start=false", "-"], {
      stdin: yaml,
    });
    assert.equal(r.code, 0, r.stderr);
    const limits = ok(
      await ptd(sb, [
        "inspect",
        "--format",
        "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}",
        "rs-c",
      ]),
    );
    if (/resource limits are ignored: --memory needs/.test(r.stderr)) {
      assert.equal(limits, "0 0");
    } else {
      assert.equal(r.stderr, "");
      assert.equal(limits, `${128 * 2 ** 20} 500000000`);
    }
  });
});
