/**
 * The run/create options Podman users reach for, side by side with Podman
 * (rootless, runc): what the container sees of them from inside, and the
 * exit codes and errors of bad values. Each engine gets its own copy of
 * the root (Podman writes /etc files into a --rootfs directory).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import {
  busyboxRoot,
  ptd,
  REPO,
  type Sandbox,
  withSandbox,
} from "../helpers.ts";
import { hasPodman, podman, stopPodmanPause } from "../podman.ts";

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
  {
    opts: ["--preserve-fds", "1"],
    cmd: "true",
    code: 125,
    says:
      "file descriptor 3 is not available - the preserve-fds option requires that file descriptors must be passed",
  },
  {
    opts: ["--subuidname", "nosuchuser"],
    cmd: "true",
    code: 125,
    says: 'no subuid ranges found for user "nosuchuser" in /etc/subuid',
  },
  {
    opts: ["--device", "/etc/passwd"],
    cmd: "true",
    code: 125,
    says: "/etc/passwd is not a valid device: not a device node",
  },
  {
    opts: ["--device", "/dev/null:/dev/n:rx"],
    cmd: "true",
    code: 125,
    says: "invalid device mode: rx",
  },
  {
    opts: ["--device", "/dev/nosuch"],
    cmd: "true",
    code: 125,
    says: "stat /dev/nosuch: no such file or directory",
  },
  {
    opts: ["--ulimit", "nofile=1024:99999999"],
    cmd: "true",
    code: 126,
    says: "error setting rlimit type 7: operation not permitted",
  },
  {
    opts: ["--ulimit", "bogus=1"],
    cmd: "true",
    code: 125,
    says:
      'ulimit option "bogus=1" requires name=SOFT:HARD, failed to be parsed: invalid ulimit type: bogus',
  },
  {
    opts: ["--shm-size", "x"],
    cmd: "true",
    code: 125,
    says: "unable to translate --shm-size: invalid size: 'x'",
  },
  {
    opts: ["--ipc", "bogus"],
    cmd: "true",
    code: 125,
    says: "unrecognized namespace mode bogus passed",
  },
  {
    opts: ["--userns", "bogus"],
    cmd: "true",
    code: 125,
    says: "unrecognized namespace mode bogus passed",
  },
  {
    opts: ["--tz", "Nowhere/Else"],
    cmd: "true",
    code: 125,
    says: "stat /usr/share/zoneinfo/Nowhere/Else: no such file or directory",
  },
  {
    opts: ["--detach-keys", "bogus"],
    cmd: "true",
    code: 126,
    says: "invalid detach keys: Unknown character: 'bogus'",
  },
  {
    opts: ["-a", "bogus"],
    cmd: "true",
    code: 125,
    says: 'invalid stream "bogus" for --attach',
  },
  {
    opts: ["--add-host", "gw:host-gateway"],
    cmd: "true",
    code: 125,
    says: 'invalid IP address in add-host: "host-gateway"',
  },
  {
    opts: ["--add-host", "nocolon"],
    cmd: "true",
    code: 125,
    says: 'bad format for add-host: "nocolon"',
  },
  {
    opts: ["--hostuser", "nosuchuser"],
    cmd: "true",
    code: 126,
    says: "unknown user nosuchuser",
  },
];

type Runner = (
  args: string[],
) => Promise<{ code: number; stdout: string; stderr: string }>;

function runners(sb: Sandbox): Record<string, Runner> {
  const env = { RUNOPTS_PROBE: "from-the-host" };
  const dec = new TextDecoder();
  return {
    podman: async (args) => {
      const out = await podman(sb, args, env);
      return {
        code: out.code,
        stdout: dec.decode(out.stdout),
        stderr: dec.decode(out.stderr),
      };
    },
    ptd: (args) => ptd(sb, args, { env }),
  };
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
    try {
      for (const c of CASES) {
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
    } finally {
      await engines.podman(["rm", "-f", "-a"]);
      stopPodmanPause(sb);
    }
  });
});

Deno.test("run --replace: a container of that name goes first", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = runners(sb);
    try {
      for (const [name, run] of Object.entries(engines)) {
        const root = busyboxRoot(`${sb.dir}/${name}`, APPLETS);
        const first = await run([
          "create",
          "--name",
          "r",
          "--rootfs",
          root,
          "true",
        ]);
        assertEquals(first.code, 0, first.stderr);
        const taken = await run([
          "create",
          "--name",
          "r",
          "--rootfs",
          root,
          "true",
        ]);
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
      }
    } finally {
      await engines.podman(["rm", "-f", "-a"]);
      stopPodmanPause(sb);
    }
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
    ];
    try {
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
    } finally {
      await engines.podman(["rm", "-f", "-a"]);
      stopPodmanPause(sb);
    }
  });
});
