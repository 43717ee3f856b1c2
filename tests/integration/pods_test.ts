/**
 * Pods against Podman 4.3 (rootless, runc), the same command lines on
 * both: `pod inspect` and `pod ps` shapes, exit codes and errors of the
 * pod verbs, a pod's life (start, stop, kill, restart, prune, rm), what
 * its containers share (UTS, IPC, network, PID with --share), an infra
 * container of another image, and that `rm -fa` leaves no process behind.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { storeBusyboxForBoth, storeBusyboxImage } from "../busybox_image.ts";
import {
  alive,
  freePort,
  ok,
  ptd,
  type Sandbox,
  until,
  withSandbox,
} from "../helpers.ts";
import { bothEngines, hasPodman, type Runner, sideBySide } from "../podman.ts";

const IMAGE = "localhost/podbox";

/**
 * A differential test: both engines hold the busybox image; what either
 * leaves (pods, containers, Podman's pause process) goes afterwards.
 */
function differential(
  name: string,
  fn: (engines: Record<"podman" | "ptd", Runner>, sb: Sandbox) => Promise<void>,
) {
  Deno.test({
    name,
    ignore: !hasPodman(),
    fn: () =>
      withSandbox(async (sb) => {
        await storeBusyboxForBoth(sb, IMAGE);
        const engines = bothEngines(sb);
        await sideBySide(sb, engines, async () => {
          try {
            await fn(engines, sb);
          } finally {
            for (const run of Object.values(engines)) {
              await run(["pod", "rm", "-fa"]);
            }
          }
        });
      }),
  });
}

/** Runs `args` on both engines; returns each one's result by name. */
async function onBoth(
  engines: Record<string, Runner>,
  args: string[],
) {
  const out: Record<string, Awaited<ReturnType<Runner>>> = {};
  for (const [name, run] of Object.entries(engines)) {
    out[name] = await run(args);
  }
  return out;
}

/** Ids (64 or 12 hex digits), ages and column widths out of an output. */
const normal = (text: string) =>
  text.replace(/\b[0-9a-f]{64}\b|\b[0-9a-f]{12}\b/g, "ID")
    .replace(/(Less than a second|\d+ seconds?) ago/g, "AGE")
    // Table columns are as wide as what they hold (an age's words).
    .replace(/ {2,}/g, "  ");

/** The same lines on both engines: same exit code and normalized output. */
async function same(
  engines: Record<string, Runner>,
  args: string[],
  sort = false,
): Promise<string> {
  const r = await onBoth(engines, args);
  const lines = (t: string) => {
    const l = normal(t).split("\n").filter(Boolean);
    return sort ? l.sort() : l;
  };
  const what = `${
    args.join(" ")
  }: ptd ${r.ptd.stderr} podman ${r.podman.stderr}`;
  assertEquals(r.ptd.code, r.podman.code, what);
  assertEquals(lines(r.ptd.stdout), lines(r.podman.stdout), what);
  return r.ptd.stdout;
}

/** Keys Podman's pod inspect has that ptd leaves out: its cgroups, argv. */
const PODMAN_ONLY = [
  "CgroupParent",
  "CgroupPath",
  "CreateCgroup",
  "CreateCommand",
];

const keys = (o: Record<string, unknown>) => Object.keys(o).sort();

differential(
  "pod inspect and pod ps --format json: Podman's fields and values",
  async (engines) => {
    const port = String(freePort());
    const create = [
      "pod",
      "create",
      "--name",
      "pp",
      "-p",
      `${port}:80`,
      "--label",
      "a=b",
      "--hostname",
      "hh",
      "--add-host",
      "x:1.2.3.4",
      "--dns",
      "9.9.9.9",
      "--share",
      "+pid",
    ];
    for (const [name, r] of Object.entries(await onBoth(engines, create))) {
      assertEquals(r.code, 0, `${name}: ${r.stderr}`);
    }
    const inspect = await onBoth(engines, ["pod", "inspect", "pp"]);
    const [mine, theirs] = [inspect.ptd, inspect.podman].map((r) =>
      JSON.parse(r.stdout)
    );
    assertEquals(
      keys(mine),
      keys(theirs).filter((k) => !PODMAN_ONLY.includes(k)),
    );
    for (const k of ["Name", "State", "Hostname", "Labels", "ExitPolicy"]) {
      assertEquals(mine[k], theirs[k], k);
    }
    for (const k of ["CreateInfra", "NumContainers"]) {
      assertEquals(mine[k], theirs[k], k);
    }
    // Podman's order of an added namespace varies from run to run.
    assertEquals(mine.SharedNamespaces, theirs.SharedNamespaces.sort());
    assertEquals(mine.InfraConfig, theirs.InfraConfig);
    assertEquals(keys(mine.Containers[0]), keys(theirs.Containers[0]));
    assertEquals(mine.Containers[0].Name, `${mine.Id.slice(0, 12)}-infra`);
    const ps = await onBoth(engines, ["pod", "ps", "--format", "json"]);
    const [p, q] = [ps.ptd, ps.podman].map((r) => JSON.parse(r.stdout)[0]);
    assertEquals(keys(p), keys(q));
    assertEquals(keys(p.Containers[0]), keys(q.Containers[0]));
    for (const k of ["Name", "Status", "Labels", "Networks", "Namespace"]) {
      assertEquals(p[k], q[k], k);
    }
    await same(engines, ["pod", "ps"]);
    await same(engines, ["pod", "ps", "--ctr-names", "--ctr-status"]);
    await same(engines, ["pod", "ps", "--no-trunc", "--ctr-ids", "-q"]);
  },
);

/** Whether this host has no cgroup v2 hierarchy of its own. */
function v1Host(): boolean {
  try {
    Deno.statSync("/sys/fs/cgroup/cgroup.controllers");
    return false;
  } catch {
    return true;
  }
}

/** Bad pod command lines: Podman's exit code and words on both. */
const CASES: { args: string[]; code: number; says?: string }[] = [
  {
    args: ["pod", "create", "--share", "mnt"],
    code: 125,
    says: "mount sharing functionality not supported on pod level",
  },
  {
    args: ["pod", "create", "--share", "cgroup"],
    code: 125,
    says: "cannot define the pod as the cgroup parent",
  },
  {
    args: ["pod", "create", "--share", "pid,+uts"],
    code: 125,
    says: "invalid kernel namespace to share: +uts",
  },
  {
    args: ["pod", "ps", "--filter", "status=foo"],
    code: 125,
    says: "foo is not a valid pod status",
  },
  {
    args: ["pod", "ps", "--filter", "bogus=1"],
    code: 125,
    says: "bogus is an invalid filter",
  },
  {
    args: ["pod", "ps", "--sort", "foo"],
    code: 125,
    says: "invalid option for --sort",
  },
  { args: ["pod", "inspect"], code: 125, says: "no names or ids specified" },
  {
    args: ["pod", "top", "nope"],
    code: 125,
    says:
      "unable to look up requested container: no pod with name or ID nope found",
  },
  {
    args: ["pod", "kill", "-s", "FOO", "pp"],
    code: 125,
    says: "invalid signal: FOO",
  },
  {
    args: ["pod", "kill", "nope"],
    code: 125,
    says: "no pod with name or ID nope found: no such pod",
  },
  {
    args: ["pod", "stop", "nope"],
    code: 125,
    says: "no pod with name or ID nope found: no such pod",
  },
  { args: ["pod", "stop", "--ignore", "nope"], code: 0 },
  {
    args: ["pod", "start"],
    code: 125,
    says: "you must provide at least one name or id",
  },
  {
    args: ["pod", "start", "empty"],
    code: 125,
    says: "have no dependencies, cannot start pod: no such container",
  },
  {
    args: ["pod", "rm", "nope"],
    code: 1,
    says: "no pod with name or ID nope found: no such pod",
  },
  {
    args: ["pod", "rm", "running"],
    code: 125,
    says: "cannot remove container",
  },
  {
    args: ["create", "--pod", "pp", "-p", "8080:80", IMAGE],
    code: 125,
    says: "published or exposed ports must be defined when the pod is created",
  },
  {
    args: ["create", "--pod", "pp", "--hostname", "x", IMAGE],
    code: 125,
    says: "cannot set hostname when joining the pod UTS namespace",
  },
  {
    args: ["create", "--pod", "nope", IMAGE],
    code: 125,
    says: "no pod with name or ID nope found: no such pod",
  },
  {
    args: ["create", "--pod", "new:pp", IMAGE],
    code: 125,
    says: 'name "pp" is in use: pod already exists',
  },
  {
    args: ["pod", "logs", "-c", "nope", "pp"],
    code: 125,
    says: "container nope is not in pod pp: no such container",
  },
  // No freezer for rootless containers on a cgroup v1 (or hybrid) host.
  ...(v1Host()
    ? [{
      args: ["pod", "pause", "pp"],
      code: 125,
      says:
        "can not pause pods containing rootless containers with cgroup V1: this container does not have a cgroup",
    }]
    : []),
  {
    args: ["rm", "-f", "pp-infra"],
    code: 125,
    says: "is the infra container of pod",
  },
];

differential(
  "bad pod command lines: Podman's exit codes and errors",
  async (engines) => {
    const setup = [
      ["pod", "create", "--name", "pp", "--infra-name", "pp-infra"],
      ["pod", "create", "--name", "empty", "--infra=false"],
      ["run", "-d", "--pod", "new:running", IMAGE, "sleep", "1000"],
    ];
    for (const args of setup) {
      for (const [name, r] of Object.entries(await onBoth(engines, args))) {
        assertEquals(r.code, 0, `${name} ${args.join(" ")}: ${r.stderr}`);
      }
    }
    for (const c of CASES) {
      for (const [name, r] of Object.entries(await onBoth(engines, c.args))) {
        const what = `${name} ${c.args.join(" ")}: ${r.stderr}`;
        assertEquals(r.code, c.code, what);
        if (c.says) assertStringIncludes(r.stderr, c.says, what);
      }
    }
  },
);

differential(
  "a pod's life: the same states, outputs and codes as Podman's",
  async (engines) => {
    const status = [
      "pod",
      "ps",
      "--format",
      "{{.Name}} {{.Status}} {{.NumberOfContainers}}",
    ];
    await same(engines, [
      "pod",
      "create",
      "--name",
      "life",
      "--label",
      "app=x",
    ]);
    await same(engines, [
      "create",
      "--pod",
      "life",
      "--name",
      "l1",
      IMAGE,
      "sh",
      "-c",
      "echo one; exec sleep 1000",
    ]);
    await same(engines, [
      "create",
      "--pod",
      "new:other",
      "--name",
      "o1",
      IMAGE,
      "true",
    ]);
    // Created members do not start the infra container.
    await same(engines, status);
    const inPod = "{{.Names}} {{.Pod}} {{.PodName}} {{.IsInfra}}";
    await same(engines, [
      "ps",
      "-a",
      "--filter",
      "pod=life",
      "--format",
      inPod,
    ]);
    // Sorted here: the infra containers' names are random.
    await same(engines, ["ps", "-a", "--pod", "--format", inPod], true);
    await same(engines, ["pod", "start", "life"]);
    await same(engines, status);
    await same(engines, [
      "pod",
      "ps",
      "--filter",
      "ctr-status=running",
      "--format",
      "{{.Name}}",
    ]);
    await same(engines, [
      "pod",
      "ps",
      "--filter",
      "label=app=x",
      "--filter",
      "status=running",
      "--format",
      "{{.Name}}",
    ]);
    await same(engines, [
      "pod",
      "ps",
      "--sort",
      "name",
      "--format",
      "{{.Name}}",
    ]);
    await until(async () =>
      (await engines.ptd(["pod", "logs", "life"])).stdout !== ""
    );
    await same(engines, ["pod", "logs", "life"]);
    await same(engines, ["pod", "logs", "--names", "-c", "l1", "life"]);
    await same(engines, ["pod", "top", "life", "pid", "comm"], true);
    await same(engines, ["pod", "unpause", "life"]);
    await same(engines, ["pod", "kill", "life"]);
    await same(engines, status);
    await same(engines, ["pod", "restart", "life"]);
    await same(engines, status);
    await same(engines, ["pod", "stop", "-t", "0", "life"]);
    await same(engines, status);
    // A pod's containers go with their pod, not with container prune.
    await same(engines, ["container", "prune", "-f"]);
    // Only exited pods go; a created one stays.
    await same(engines, ["pod", "prune", "-f"]);
    await same(engines, status);
    await same(engines, ["pod", "rm", "other"]);
    await same(engines, ["pod", "exists", "other"]);
  },
);

differential(
  "members share the infra container's UTS, IPC and network, and with --share pid its PIDs; --share net,ipc leaves each its own hostname",
  async (engines) => {
    await same(engines, ["pod", "create", "--name", "sh", "--share", "+pid"]);
    await same(engines, [
      "run",
      "-d",
      "--pod",
      "sh",
      "--name",
      "s1",
      IMAGE,
      "sleep",
      "1000",
    ]);
    // A capable member renames the pod's one UTS namespace.
    await same(engines, [
      "run",
      "--rm",
      "--pod",
      "sh",
      "--cap-add",
      "SYS_ADMIN",
      IMAGE,
      "hostname",
      "renamed",
    ]);
    await same(engines, ["exec", "s1", "hostname"]);
    // The infra container's hosts file, and the member's own name.
    await same(engines, ["exec", "s1", "cat", "/etc/hosts"]);
    await same(engines, [
      "run",
      "--rm",
      "--pod",
      "sh",
      IMAGE,
      "cat",
      "/proc/1/comm",
    ]);
    await same(
      engines,
      ["run", "--rm", "--pod", "sh", IMAGE, "ps", "-o", "comm"],
      true,
    );
    const ns = (
      c: string,
      kind: string,
    ) => ["exec", c, "readlink", `/proc/self/ns/${kind}`];
    await same(engines, [
      "run",
      "-d",
      "--pod",
      "sh",
      "--name",
      "s2",
      IMAGE,
      "sleep",
      "1000",
    ]);
    for (const kind of ["uts", "ipc", "net", "pid"]) {
      for (const run of Object.values(engines)) {
        const [a, b] = [await run(ns("s1", kind)), await run(ns("s2", kind))];
        assertEquals(a.stdout, b.stdout, kind);
      }
    }
    await same(engines, [
      "pod",
      "create",
      "--name",
      "own",
      "--share",
      "net,ipc",
    ]);
    await same(engines, [
      "run",
      "-d",
      "--pod",
      "own",
      "--name",
      "w1",
      IMAGE,
      "sleep",
      "1000",
    ]);
    // Its hostname is its own id: hence "ID" in both.
    await same(engines, ["exec", "w1", "hostname"]);
    await same(engines, [
      "run",
      "--rm",
      "--pod",
      "own",
      "--hostname",
      "mine",
      IMAGE,
      "hostname",
    ]);
    await same(engines, [
      "inspect",
      "--format",
      "{{.HostConfig.UTSMode}} {{.HostConfig.IpcMode}} {{.HostConfig.PidMode}}",
      "s1",
      "w1",
    ]);
  },
);

differential(
  "--infra-image with --infra-command runs that image as the infra container; --infra-name, --infra-conmon-pidfile",
  async (engines, sb) => {
    for (const [name, run] of Object.entries(engines)) {
      const pidfile = `${sb.dir}/${name}-infra.pid`;
      ok(
        await run([
          "pod",
          "create",
          "--name",
          "ii",
          "--infra-image",
          IMAGE,
          "--infra-command",
          "sleep 1000",
          "--infra-name",
          "ii-infra",
          "--infra-conmon-pidfile",
          pidfile,
        ]),
      );
      ok(await run(["pod", "start", "ii"]));
      const monitor = ok(
        await run(["inspect", "--format", "{{.State.ConmonPid}}", "ii-infra"]),
      );
      assertEquals(Deno.readTextFileSync(pidfile).trim(), monitor, name);
    }
    await same(engines, [
      "inspect",
      "--format",
      "{{.Path}} {{.Args}} {{.ImageName}} {{.State.Status}}",
      "ii-infra",
    ]);
    await same(engines, ["run", "--rm", "--pod", "ii", IMAGE, "hostname"]);
    await same(engines, [
      "pod",
      "inspect",
      "--format",
      "{{.Name}} {{.State}}",
      "ii",
    ]);
  },
);

/** Pids of live processes started for this sandbox's store (monitors). */
function processesOf(sb: Sandbox): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!(pid > 0) || pid === Deno.pid || !alive(pid)) continue;
    try {
      const env = Deno.readTextFileSync(`/proc/${pid}/environ`);
      if (env.split("\0").includes(`PTD_ROOT=${sb.env.PTD_ROOT}`)) {
        out.push(pid);
      }
    } catch { /* gone, or not ours */ }
  }
  return out;
}

Deno.test("rm -fa takes the pods along: no monitor, infra process or mount is left", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    ok(await ptd(sb, ["pod", "create", "--name", "a"]));
    ok(await ptd(sb, ["run", "-d", "--pod", "a", IMAGE, "sleep", "1000"]));
    ok(await ptd(sb, ["run", "-d", "--pod", "new:b", IMAGE, "sleep", "1000"]));
    const infra = ok(
      await ptd(sb, [
        "pod",
        "inspect",
        "--format",
        "{{.InfraContainerID}}",
        "a",
      ]),
    );
    const pid = Number(
      ok(await ptd(sb, ["inspect", "--format", "{{.State.Pid}}", infra])),
    );
    assert(alive(pid), "the infra container runs");
    assert(processesOf(sb).length >= 4, "a monitor per container");
    // The infra container alone is refused, as Podman refuses it.
    const alone = await ptd(sb, ["rm", "-f", infra]);
    assertEquals(alone.code, 125);
    assertStringIncludes(
      alone.stderr,
      "cannot be removed without removing the pod",
    );
    ok(await ptd(sb, ["rm", "-fa"]));
    assertEquals(ok(await ptd(sb, ["pod", "ps", "-q"])), "");
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
    await until(() => !alive(pid) && processesOf(sb).length === 0);
    ok(await ptd(sb, ["pod", "rm", "-fa"]));
    const mounts = Deno.readTextFileSync("/proc/self/mountinfo");
    assert(!mounts.includes(sb.dir), "no mount of the store is left");
  });
});

Deno.test("system reset -f with a running pod: nothing is left", async () => {
  await withSandbox(async (sb) => {
    await storeBusyboxImage(sb, IMAGE);
    ok(await ptd(sb, ["run", "-d", "--pod", "new:r", IMAGE, "sleep", "1000"]));
    assert(processesOf(sb).length >= 2, "the pod runs");
    ok(await ptd(sb, ["system", "reset", "-f"]));
    await until(() => processesOf(sb).length === 0);
    assertEquals(ok(await ptd(sb, ["pod", "ps", "-q"])), "");
  });
});

Deno.test("network rm -f removes the pods on the network, as Podman's does", async () => {
  await withSandbox(async (sb) => {
    const net = `podnet${crypto.randomUUID().slice(0, 6)}`;
    ok(await ptd(sb, ["network", "create", net]));
    try {
      ok(await ptd(sb, ["pod", "create", "--name", "np", "--network", net]));
      ok(await ptd(sb, ["pod", "start", "np"]));
      assertEquals((await ptd(sb, ["network", "rm", net])).code, 2);
      ok(await ptd(sb, ["network", "rm", "-f", net]));
      assertEquals(ok(await ptd(sb, ["pod", "ps", "-q"])), "");
      await until(() => processesOf(sb).length === 0);
    } finally {
      await ptd(sb, ["network", "rm", "-f", net]);
    }
  });
});

differential(
  "pod rm takes its containers' anonymous volumes, not the named ones, as Podman's",
  async (engines) => {
    await same(engines, ["volume", "create", "kept"]);
    await same(engines, ["pod", "create", "--name", "vpod"]);
    await same(engines, [
      "create",
      "--pod",
      "vpod",
      "--name",
      "vmember",
      "-v",
      "/anon",
      "-v",
      "kept:/kept",
      IMAGE,
      "true",
    ]);
    await same(engines, ["pod", "rm", "-f", "vpod"]);
    const left = await same(engines, ["volume", "ls", "--format", "{{.Name}}"]);
    assertEquals(left.trim(), "kept");
    await same(engines, ["volume", "rm", "kept"]);
  },
);
