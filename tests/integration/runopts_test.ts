/**
 * The run/create options Podman users reach for, side by side with Podman
 * (rootless, runc): what the container sees of them from inside, and the
 * exit codes and errors of bad values. Each engine gets its own copy of
 * the root (Podman writes /etc files into a --rootfs directory).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  busyboxRoot,
  ptd,
  REPO,
  type Sandbox,
  withSandbox,
} from "../helpers.ts";
import { bothEngines, hasPodman, type Runner, sideBySide } from "../podman.ts";

interface Case {
  /** Options before --rootfs. */
  opts: string[];
  /** The command after the root; a string runs under sh -c. */
  cmd: string | string[];
  code?: number;
  /** Both say this on stderr (for a failure). */
  says?: string;
  /** Only compare exit codes (and `says`), not the output. */
  codeOnly?: boolean;
}

const APPLETS = [
  "awk",
  "cmp",
  "cut",
  "date",
  "df",
  "grep",
  "head",
  "readlink",
  "sleep",
  "tail",
  "true",
];

/** Columns 1 and 3 of a uid/gid map: host ids differ (Podman nests). */
const MAP = "awk '{print $1, $3}' /proc/self/uid_map /proc/self/gid_map";

const CASES: Case[] = [
  { opts: [], cmd: "echo $TERM; echo ${container:-unset}" },
  { opts: ["-e", "TERM=vt100"], cmd: "echo $TERM" },
  { opts: [], cmd: "stat -c '%s %a %u' /run/.containerenv" },
  { opts: ["--env-host"], cmd: "echo $RUNOPTS_PROBE" },
  { opts: ["--entrypoint", '["sh","-c"]'], cmd: ["echo hi $0"] },
  { opts: ["--net", "none"], cmd: "tail -1 /etc/hosts | cut -f1" },
  { opts: [], cmd: "grep -c host.containers.internal /etc/hosts" },
  { opts: ["--add-host", "db:10.0.0.5"], cmd: "head -1 /etc/hosts" },
  // Before the next: Podman writes its entries into a --rootfs directory.
  { opts: ["-u", "1234", "--passwd=false"], cmd: "tail -1 /etc/passwd" },
  {
    opts: ["-u", "1234:55"],
    cmd: "id -u; id -g; tail -1 /etc/passwd; tail -1 /etc/group; echo $HOME",
  },
  { opts: ["--userns", "keep-id"], cmd: `id -u; id -g; ${MAP}` },
  { opts: ["--userns", "keep-id:uid=5,gid=6"], cmd: `id -u; id -g; ${MAP}` },
  { opts: ["--userns", "host"], cmd: `id -u; ${MAP}` },
  {
    opts: ["--uidmap", "0:0:1", "--uidmap", "1:1:1000"],
    cmd: `id -u; ${MAP}`,
  },
  { opts: ["--ulimit", "nofile=1024:2048"], cmd: "ulimit -n; ulimit -Hn" },
  { opts: ["--ulimit", "nproc=100"], cmd: "ulimit -u; ulimit -Hu" },
  { opts: [], cmd: "df -k /dev/shm | tail -1 | awk '{print $2}'" },
  { opts: ["--shm-size", "1m"], cmd: "df -k /dev/shm | tail -1" },
  { opts: ["--ipc", "none"], cmd: "ls /dev/shm", code: 1, codeOnly: true },
  { opts: ["--ipc", "private"], cmd: "test -d /dev/shm && echo shm" },
  {
    opts: ["--tz", "Europe/Paris"],
    cmd: "date +%Z; stat -c %u /etc/localtime",
  },
  { opts: ["--timeout", "1"], cmd: ["sleep", "20"], code: 255 },
  { opts: ["-a", "stderr"], cmd: "echo out; echo err >&2" },
  { opts: ["--detach-keys", "ctrl-a,x"], cmd: "true" },
  {
    opts: ["--device", "/dev/null:/dev/mynull"],
    cmd: "ls -l /dev/mynull | awk '{print $1, $5, $6}'; echo x > /dev/mynull",
  },
  { opts: [], cmd: "umask" },
  { opts: ["--umask", "0077"], cmd: "umask; touch /tmp/f; stat -c %a /tmp/f" },
  { opts: ["--pid", "private"], cmd: "echo $$" },
  // The host's PID namespace and /proc: the same inode for both engines.
  {
    opts: ["--pid", "host"],
    cmd: "readlink /proc/self/ns/pid; test -d /proc/1",
  },
  {
    opts: ["--uts", "host"],
    // /etc/hostname keeps the container's own name (its short id).
    cmd:
      "hostname; cut -c1-12 /etc/hostname | grep -c '^[0-9a-f]*$'; readlink /proc/self/ns/uts",
  },
  { opts: ["--env-merge", "PATH=/opt/x:${PATH}"], cmd: "echo $PATH" },
  {
    opts: ["--env-merge", "TERM=${TERM}-256", "--env-merge", "NOPE=x"],
    cmd: "echo $TERM ${NOPE:-unset}",
  },
  {
    opts: ["-e", "FOO=1", "--env-merge", "FOO=x${FOO}"],
    cmd: "echo $FOO",
  },
  // Last: Podman writes the entry into the --rootfs directory itself.
  {
    opts: [
      "-u",
      "4321:56",
      "-w",
      "/tmp",
      "--passwd-entry",
      "$USERNAME:x:$UID:$GID:$NAME:$HOME:/bin/false",
    ],
    cmd: "tail -1 /etc/passwd; tail -1 /etc/group",
  },
  {
    opts: ["-u", "4322", "--passwd=false", "--passwd-entry", "u$UID:$HOME:$X"],
    // --passwd=false: no entry, template or not.
    cmd: "grep -c u4322 /etc/passwd || true",
  },
];

/** Bad values: Podman's exit code, and its error text. */
const REFUSED: [string[], number, string][] = [
  [
    ["--preserve-fds", "1"],
    125,
    "file descriptor 3 is not available - the preserve-fds option requires that file descriptors must be passed",
  ],
  [
    ["--subuidname", "nosuchuser"],
    125,
    'no subuid ranges found for user "nosuchuser" in /etc/subuid',
  ],
  [
    ["--device", "/etc/passwd"],
    125,
    "/etc/passwd is not a valid device: not a device node",
  ],
  [["--device", "/dev/null:/dev/n:rx"], 125, "invalid device mode: rx"],
  [
    ["--device", "/dev/nosuch"],
    125,
    "stat /dev/nosuch: no such file or directory",
  ],
  [
    ["--ulimit", "nofile=1024:99999999"],
    126,
    "error setting rlimit type 7: operation not permitted",
  ],
  [
    ["--ulimit", "bogus=1"],
    125,
    'ulimit option "bogus=1" requires name=SOFT:HARD, failed to be parsed: invalid ulimit type: bogus',
  ],
  [
    ["--shm-size", "x"],
    125,
    "unable to translate --shm-size: invalid size: 'x'",
  ],
  [["--ipc", "bogus"], 125, "unrecognized namespace mode bogus passed"],
  [["--userns", "bogus"], 125, "unrecognized namespace mode bogus passed"],
  [
    ["--userns", "ns:"],
    125,
    "invalid config provided: namespace mode path requires a value",
  ],
  [
    ["--userns", "ns:/nonexistent"],
    125,
    "cannot find specified user namespace path: stat /nonexistent: no such file or directory",
  ],
  // Rootless, neither joins another user namespace (Podman's runtime
  // fails from inside Podman's own), nor opens a --rootfs directory from
  // a namespace without the user in it.
  [["--userns", "ns:/etc/passwd"], 126, ""],
  [["--userns", "nomap"], 126, "permission denied"],
  [["--uidmap", "0:1:1000"], 126, "permission denied"],
  [["--userns", "auto"], 126, ""],
  [["--userns", "auto:bogus=1"], 125, 'unknown option specified: "bogus"'],
  [
    ["--userns", "auto:gidmapping=1:2"],
    125,
    'failed to create ParseUIDMap UID=[1:2]: initializing ID mappings: UID setting is malformed expected ["uint32:uint32:uint32"]: ["1:2"]',
  ],
  [
    ["--userns", "auto:size=x"],
    125,
    'strconv.ParseUint: parsing "x": invalid syntax',
  ],
  [
    ["--tz", "Nowhere/Else"],
    125,
    "stat /usr/share/zoneinfo/Nowhere/Else: no such file or directory",
  ],
  [
    ["--detach-keys", "bogus"],
    126,
    "invalid detach keys: Unknown character: 'bogus'",
  ],
  [["-a", "bogus"], 125, 'invalid stream "bogus" for --attach'],
  [
    ["--add-host", "gw:host-gateway"],
    125,
    'invalid IP address in add-host: "host-gateway"',
  ],
  [["--add-host", "nocolon"], 125, 'bad format for add-host: "nocolon"'],
  [["--hostuser", "nosuchuser"], 126, "unknown user nosuchuser"],
  [
    ["--umask", "999"],
    125,
    "running container create option: invalid umask string 999: invalid argument",
  ],
  // --pid and --uts: the same errors, each naming its namespace.
  ...(["pid", "uts"] as const).flatMap((
    kind,
  ): [string[], number, string][] => [
    [[`--${kind}`, "bogus"], 125, "unrecognized namespace mode bogus passed"],
    [
      [`--${kind}`, "ns:/nonexistent"],
      125,
      `cannot find specified ${kind.toUpperCase()} namespace path: stat /nonexistent: no such file or directory`,
    ],
    [
      [`--${kind}`, "container:nosuch"],
      125,
      `looking up container to share ${kind} namespace with: no container with name or ID "nosuch" found: no such container`,
    ],
  ]),
  [
    ["--uts", "host", "--hostname", "h"],
    125,
    "invalid config provided: cannot set hostname when running in the host UTS namespace: invalid configuration",
  ],
  [
    ["--group-add", "keep-groups", "--group-add", "5"],
    125,
    "the '--group-add keep-groups' option is not allowed with any other --group-add options",
  ],
];

const runners = (sb: Sandbox) =>
  bothEngines(sb, { RUNOPTS_PROBE: "from-the-host" });

/**
 * Runs `fn` for each engine on one sandbox, each with a busybox root of
 * its own (Podman writes into a --rootfs directory); what Podman leaves
 * is gone afterwards.
 */
function eachEngine(
  fn: (name: string, run: Runner, root: string, sb: Sandbox) => Promise<void>,
): Promise<void> {
  return withSandbox(async (sb) => {
    const engines = runners(sb);
    await sideBySide(sb, engines, async () => {
      for (const [name, run] of Object.entries(engines)) {
        await fn(name, run, busyboxRoot(`${sb.dir}/${name}`, APPLETS), sb);
      }
    });
  });
}

Deno.test("run options: what the container sees is what Podman's sees", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = runners(sb);
    const roots: Record<string, string> = {};
    for (const name of Object.keys(engines)) {
      roots[name] = busyboxRoot(`${sb.dir}/${name}`, APPLETS);
    }
    await sideBySide(sb, engines, async () => {
      const refused = REFUSED.map(([opts, code, says]): Case => ({
        opts,
        cmd: "true",
        code,
        says,
      }));
      for (const c of [...CASES, ...refused]) {
        const out: Record<string, string> = {};
        for (const [name, run] of Object.entries(engines)) {
          const cmd = typeof c.cmd === "string" ? ["sh", "-c", c.cmd] : c.cmd;
          const args = ["run", "--rm", ...c.opts, "--rootfs", roots[name]];
          const r = await run([...args, ...cmd]);
          const what = `${name} ${[...c.opts, ...cmd].join(" ")}: ${r.stderr}`;
          assertEquals(r.code, c.code ?? 0, what);
          if (c.says) assertStringIncludes(r.stderr, c.says, what);
          out[name] = r.stdout;
        }
        if (!c.codeOnly) {
          assertEquals(out.ptd, out.podman, `${c.opts.join(" ")} ${c.cmd}`);
        }
      }
    });
  });
});

Deno.test("run --replace: a container of that name goes first", {
  ignore: !hasPodman(),
}, async () => {
  await eachEngine(async (name, run, root) => {
    const create = ["create", "--name", "r", "--rootfs", root, "true"];
    const first = await run(create);
    assertEquals(first.code, 0, first.stderr);
    const taken = await run(create);
    assertEquals(taken.code, 125, `${name}: ${taken.stderr}`);
    const again = await run([
      "run",
      "--replace",
      "--name",
      "r",
      "--rootfs",
      root,
      "sh",
      "-c",
      "echo replaced",
    ]);
    assertEquals(again.code, 0, `${name}: ${again.stderr}`);
    // Podman names the container it replaced.
    assertEquals(again.stdout, "r\nreplaced\n");
    const ids = await run(["ps", "-aq", "--filter", "name=r"]);
    assertEquals(ids.stdout.trim().split("\n").length, 1, name);
  });
});

Deno.test("run --preserve-fds: the command gets descriptor 3 of ours", async () => {
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, APPLETS);
    Deno.writeTextFileSync(`${sb.dir}/fd3`, "hello-fd\n");
    const args = ["run", "-A", "--quiet", `--config=${REPO}/deno.json`];
    const run = ["run", "--rm", "--preserve-fds", "1", "--rootfs", root];
    // The shell opens fd 3 without close-on-exec, as a user's shell would.
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        `exec "$@" 3<${sb.dir}/fd3`,
        "sh",
        Deno.execPath(),
        ...args,
        `${REPO}/main.ts`,
        ...run,
        "sh",
        "-c",
        "cat <&3",
      ],
      env: sb.env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assertEquals(out.code, 0, dec.decode(out.stderr));
    assertEquals(dec.decode(out.stdout), "hello-fd\n");
  });
});

Deno.test("inspect: UsernsMode, IpcMode, ShmSize as Podman shows them", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = runners(sb);
    const opts = [
      ["--name", "plain"],
      ["--name", "kept", "--userns", "keep-id", "--shm-size", "1m"],
      ["--name", "none", "--ipc", "none"],
      ["--name", "joined", "--userns", "ns:/etc/passwd"],
      ["--name", "nomapped", "--userns", "nomap"],
    ];
    await sideBySide(sb, engines, async () => {
      const seen: Record<string, unknown[]> = {};
      for (const [name, run] of Object.entries(engines)) {
        const root = busyboxRoot(`${sb.dir}/${name}`, APPLETS);
        seen[name] = [];
        for (const o of opts) {
          const made = await run(["create", ...o, "--rootfs", root, "true"]);
          assertEquals(made.code, 0, `${name}: ${made.stderr}`);
          const doc = JSON.parse((await run(["inspect", o[1]])).stdout)[0];
          const h = doc.HostConfig;
          seen[name].push([h.UsernsMode, h.IpcMode, h.ShmSize]);
        }
      }
      assertEquals(seen.ptd, seen.podman);
    });
  });
});

Deno.test("run --ipc container:NAME shares that container's IPC namespace", {
  ignore: !hasPodman(),
}, async () => {
  await eachEngine(async (name, run, root) => {
    const ipc = "readlink /proc/self/ns/ipc";
    const src = await run([
      "run",
      "-d",
      "--name",
      "isrc",
      "--rootfs",
      root,
      "sleep",
      "1000",
    ]);
    assertEquals(src.code, 0, `${name}: ${src.stderr}`);
    const own = await run(["exec", "isrc", "sh", "-c", ipc]);
    const opts = ["--rm", "--rootfs", root, "sh", "-c", ipc];
    const joined = await run(["run", "--ipc", "container:isrc", ...opts]);
    assertEquals(joined.code, 0, `${name}: ${joined.stderr}`);
    assertEquals(joined.stdout, own.stdout, name);
    const apart = await run(["run", ...opts]);
    assert(apart.stdout !== own.stdout, name);
    const missing = await run([
      "run",
      "--ipc",
      "container:nosuch",
      ...opts,
    ]);
    assertEquals(missing.code, 125, name);
    assertStringIncludes(
      missing.stderr,
      'looking up container to share ipc namespace with: no container with name or ID "nosuch" found',
    );
    await run(["kill", "isrc"]);
    await run(["rm", "-f", "isrc"]);
  });
});

Deno.test("run --pid/--uts container:NAME share that container's namespaces", {
  ignore: !hasPodman(),
}, async () => {
  await eachEngine(async (name, run, root) => {
    const src = await run([
      "run",
      "-d",
      "--name",
      "nsrc",
      "--hostname",
      "srchost",
      "--rootfs",
      root,
      "sleep",
      "1000",
    ]);
    assertEquals(src.code, 0, `${name}: ${src.stderr}`);
    const probe = "readlink /proc/self/ns/pid; readlink /proc/self/ns/uts";
    const own = await run(["exec", "nsrc", "sh", "-c", probe]);
    const joined = await run([
      "run",
      "--rm",
      "--pid",
      "container:nsrc",
      "--uts",
      "container:nsrc",
      "--rootfs",
      root,
      "sh",
      "-c",
      `${probe}; hostname; cat /proc/1/cmdline | head -c 5`,
    ]);
    assertEquals(joined.code, 0, `${name}: ${joined.stderr}`);
    assertEquals(joined.stdout, `${own.stdout}srchost\nsleep`, name);
    // PidMode and UTSMode name it by id, as Podman does.
    const made = await run([
      "create",
      "--name",
      "nsjoin",
      "--pid",
      "container:nsrc",
      "--uts",
      "container:nsrc",
      "--umask",
      "0027",
      "--rootfs",
      root,
      "true",
    ]);
    assertEquals(made.code, 0, `${name}: ${made.stderr}`);
    const id = (await run(["inspect", "--format", "{{.Id}}", "nsrc"]))
      .stdout.trim();
    const modes = await run([
      "inspect",
      "--format",
      "{{.HostConfig.PidMode}} {{.HostConfig.UTSMode}} {{.Config.Umask}}",
      "nsjoin",
    ]);
    assertEquals(
      modes.stdout,
      `container:${id} container:${id} 0027\n`,
      name,
    );
    // Starting it starts the container whose namespaces it joins first.
    await run(["stop", "-t", "0", "nsrc"]);
    const started = await run(["start", "nsjoin"]);
    assertEquals(started.code, 0, `${name}: ${started.stderr}`);
    const up = await run(["inspect", "--format", "{{.State.Running}}", "nsrc"]);
    assertEquals(up.stdout, "true\n", name);
    await run(["rm", "-f", "nsjoin"]);
    await run(["rm", "-f", "-t", "0", "nsrc"]);
  });
});

Deno.test(
  "run --pidfile and --conmon-pidfile: the command's pid and its parent's",
  {
    ignore: !hasPodman(),
  },
  async () => {
    await eachEngine(async (name, run, root, sb) => {
      const pidfile = `${sb.dir}/${name}.pid`;
      const monitor = `${sb.dir}/${name}.conmon`;
      const r = await run([
        "run",
        "-d",
        "--name",
        "pf",
        "--pidfile",
        pidfile,
        "--conmon-pidfile",
        monitor,
        "--rootfs",
        root,
        "sleep",
        "1000",
      ]);
      assertEquals(r.code, 0, `${name}: ${r.stderr}`);
      const pid = Number(Deno.readTextFileSync(pidfile));
      const parent = Number(Deno.readTextFileSync(monitor));
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const ppid = Number(
        stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1],
      );
      assertEquals(ppid, parent, name);
      const shown = await run([
        "inspect",
        "--format",
        "{{.ConmonPidFile}} {{.PidFile}}",
        "pf",
      ]);
      assertEquals(shown.stdout, `${monitor} ${pidfile}\n`, name);
      await run(["rm", "-f", "-t", "0", "pf"]);
    });
  },
);

Deno.test("run --personality LINUX32: the command sees a 32-bit machine", {
  ignore: Deno.build.arch !== "x86_64",
}, async () => {
  // Podman 4.3 with runc leaves the personality as it is; crun sets it.
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, ["uname"]);
    const args = ["run", "--rm", "--rootfs", root, "uname", "-m"];
    const plain = await ptd(sb, args);
    assertEquals(plain.stdout, "x86_64\n", plain.stderr);
    const r = await ptd(sb, [
      "run",
      "--rm",
      "--personality",
      "linux32",
      ...args.slice(2),
    ]);
    assertEquals(r.stdout, "i686\n", r.stderr);
    const bad = await ptd(sb, [
      ...args.slice(0, 2),
      "--personality",
      "bogus",
      ...args.slice(2),
    ]);
    assertEquals(bad.code, 125);
    assertStringIncludes(bad.stderr, "invalid personality bogus");
  });
});

Deno.test(
  "run --chrootdirs: each directory gets /etc/hosts and resolv.conf too",
  {
    ignore: !hasPodman(),
  },
  async () => {
    const seen: Record<string, string> = {};
    await eachEngine(async (name, run, root) => {
      Deno.mkdirSync(`${root}/jail/etc`, { recursive: true });
      const r = await run([
        "run",
        "--rm",
        "--chrootdirs",
        "/jail,/other",
        "--rootfs",
        root,
        "sh",
        "-c",
        "ls /jail/etc /other/etc; cmp /etc/hosts /jail/etc/hosts && echo same",
      ]);
      assertEquals(r.code, 0, `${name}: ${r.stderr}`);
      seen[name] = r.stdout;
    });
    assertStringIncludes(seen.ptd, "same");
    assertEquals(seen.ptd, seen.podman);
  },
);

Deno.test("run --group-add keep-groups: the groups it was started with stay", async () => {
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, ["grep"]);
    const cmd = ["--rootfs", root, "grep", "^Groups", "/proc/self/status"];
    const dropped = await ptd(sb, ["run", "--rm", ...cmd]);
    assertEquals(dropped.stdout.trim(), "Groups:", dropped.stderr);
    const kept = await ptd(sb, [
      "run",
      "--rm",
      "--group-add",
      "keep-groups",
      ...cmd,
    ]);
    // The user's own group is root's inside.
    assertStringIncludes(kept.stdout, "Groups:\t0", kept.stderr);
  });
});

Deno.test(
  "run --mount type=image and type=devpts: what the container sees is what Podman's sees",
  {
    ignore: !hasPodman(),
  },
  async () => {
    const cases: [string, string, number, string?][] = [
      [
        "type=image,source=localhost/mnt:1,destination=/img",
        "ls /img/bin/busybox; touch /img/x",
        1,
      ],
      [
        "type=image,source=localhost/mnt:1,destination=/img,rw=true",
        "touch /img/x && echo wrote",
        0,
      ],
      [
        "type=image,source=nope,destination=/img",
        "true",
        126,
        'creating image volume "nope":"/img": nope: image not known',
      ],
      [
        "type=devpts,destination=/dev/pts2,mode=620",
        "grep pts2 /proc/mounts | awk '{print $1, $2, $3}'",
        0,
      ],
      [
        "type=ramfs,destination=/r",
        "true",
        125,
        'invalid filesystem type "ramfs"',
      ],
    ];
    const outs: Record<string, string[]> = {};
    await eachEngine(async (name, run, root, sb) => {
      const tar = `${sb.dir}/${name}-root.tar`;
      const made = await new Deno.Command("tar", {
        args: ["-C", root, "-cf", tar, "."],
      }).output();
      assert(made.success);
      const imported = await run(["import", tar, "localhost/mnt:1"]);
      assertEquals(imported.code, 0, `${name}: ${imported.stderr}`);
      outs[name] = [];
      for (const [mount, cmd, code, says] of cases) {
        const r = await run([
          "run",
          "--rm",
          "--mount",
          mount,
          "--rootfs",
          root,
          "sh",
          "-c",
          cmd,
        ]);
        assertEquals(r.code, code, `${name} ${mount}: ${r.stderr}`);
        if (says) assertStringIncludes(r.stderr, says);
        outs[name].push(r.stdout);
      }
    });
    assertEquals(outs.ptd, outs.podman);
  },
);
