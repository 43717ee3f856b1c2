/**
 * Confinement as Podman's, seen from inside rootless containers: capability
 * sets, no_new_privs and seccomp mode side by side with Podman (runc), the
 * default profile's errnos (exec included), a profile of one's own, and
 * nothing of ptd left open in the container's process.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import {
  busyboxRoot,
  ok,
  processesWith,
  ptd,
  ROOTLESS,
  type Sandbox,
  until,
  withSandbox,
} from "../helpers.ts";
import { bothEngines, hasPodman, sideBySide } from "../podman.ts";
import {
  DEFAULT_SECCOMP_PROFILE,
  profileFile,
} from "../../src/security/seccomp.ts";

const STATUS = "grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status";

const CASES = [
  [],
  ["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"],
  ["-u", "1000"],
  ["-u", "1000", "--cap-add", "NET_BIND_SERVICE"],
  ["--privileged"],
  ["--security-opt", "no-new-privileges"],
  ["--security-opt", "seccomp=unconfined"],
];

/**
 * containers.conf for both engines: none (the built-in defaults, Docker's
 * capability set) and the one Podman's package ships (a narrower set).
 */
const CONFS = ["/dev/null", "/usr/share/containers/containers.conf"];

Deno.test("capability sets, no_new_privs and seccomp mode are Podman's", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const roots = {
      podman: busyboxRoot(`${sb.dir}/podman`, ["grep"]),
      ptd: busyboxRoot(`${sb.dir}/ptd`, ["grep"]),
    };
    const byConf = CONFS.map((conf) =>
      bothEngines(sb, { CONTAINERS_CONF: conf })
    );
    await sideBySide(sb, byConf[0], async () => {
      for (const [i, engines] of byConf.entries()) {
        for (const opts of CASES) {
          const out: Record<string, string> = {};
          for (const name of ["podman", "ptd"] as const) {
            const args = ["run", "--rm", ...opts, "--rootfs", roots[name]];
            const cmd = [...args, "sh", "-c", STATUS];
            out[name] = ok(await engines[name](cmd));
            // Podman 4.3 now and then loses a short container's output.
            if (out[name] === "") out[name] = ok(await engines[name](cmd));
          }
          assertEquals(out.ptd, out.podman, `${CONFS[i]} ${opts.join(" ")}`);
          if (opts.length === 0) assertStringIncludes(out.ptd, "Seccomp:\t2");
        }
      }
    });
  });
});

/** Devices, /sys and masked or read-only paths, as the container sees them. */
const VIEW = [
  "ls -R /dev | grep -vx core", // ptd links /dev/core whether or not runc would
  "grep -E ' /(sys|proc/keys|proc/sys|sys/firmware|etc/passwd) ' /proc/self/mountinfo | cut -d' ' -f5,6 | sort",
].join("; ");

Deno.test(
  "--privileged, mask=/unmask=, inspect's SecurityOpt and exec's sets are Podman's",
  {
    ignore: !hasPodman(),
  },
  async () => {
    await withSandbox(async (sb) => {
      const engines = bothEngines(sb, { CONTAINERS_CONF: "/dev/null" });
      const roots = {
        podman: busyboxRoot(`${sb.dir}/podman`, [
          "grep",
          "sort",
          "cut",
          "sleep",
        ]),
        ptd: busyboxRoot(`${sb.dir}/ptd`, ["grep", "sort", "cut", "sleep"]),
      };
      await sideBySide(sb, engines, async () => {
        for (
          const opts of [
            ["--privileged"],
            [
              "--security-opt",
              "unmask=/proc/k*",
              "--security-opt",
              "mask=/etc/passwd",
            ],
            ["--security-opt", "unmask=ALL"],
          ]
        ) {
          const out: Record<string, string> = {};
          for (const name of ["podman", "ptd"] as const) {
            const cmd = [
              "run",
              "--rm",
              ...opts,
              "--rootfs",
              roots[name],
              "sh",
              "-c",
              VIEW,
            ];
            out[name] = ok(await engines[name](cmd));
            if (out[name] === "") out[name] = ok(await engines[name](cmd));
          }
          assertEquals(out.ptd, out.podman, opts.join(" "));
        }
        const opts = [
          "--security-opt",
          "seccomp=unconfined",
          "--security-opt",
          "label=disable",
          "--security-opt",
          "no-new-privileges",
        ];
        const shown: Record<string, string> = {};
        for (const name of ["podman", "ptd"] as const) {
          const run = engines[name];
          ok(
            await run([
              "create",
              "--name",
              "s",
              ...opts,
              "--rootfs",
              roots[name],
              "true",
            ]),
          );
          const format = "{{json .HostConfig.SecurityOpt}}";
          shown[name] = ok(await run(["inspect", "--format", format, "s"]));
        }
        assertEquals(shown.ptd, shown.podman);
        // exec gets the container's sets and filter.
        const execd: Record<string, string> = {};
        for (const name of ["podman", "ptd"] as const) {
          const run = engines[name];
          const user = ["-u", "1000", "--cap-add", "NET_BIND_SERVICE"];
          const args = ["--name", "e", ...user, "--rootfs", roots[name]];
          ok(await run(["run", "-d", ...args, "sleep", "60"]));
          execd[name] = ok(await run(["exec", "e", "sh", "-c", STATUS]));
          // Every capability, and still the container's filter.
          execd[name] += ok(
            await run(["exec", "--privileged", "e", "sh", "-c", STATUS]),
          );
        }
        assertEquals(execd.ptd, execd.podman, "exec");
      });
    });
  },
);

/** --security-opt values both engines refuse, and what they say. */
const REFUSED: [string, string][] = [
  ["foo=bar", 'invalid --security-opt 2: "foo=bar"'],
  ["seccomp", 'invalid --security-opt 1: "seccomp"'],
  ["no-new-privileges=maybe", "invalid --security-opt 2"],
  ["apparmor=foo", 'apparmor profile "foo" specified, but Apparmor is not'],
  ["seccomp=/nonexist.json", "open /nonexist.json: no such file or directory"],
  ["systempaths=x", 'invalid systempaths option "x"'],
  ["seccomp=NOTJSON", "failed: decoding seccomp profile failed: "],
];

Deno.test("bad --security-opt values are refused in Podman's words", {
  ignore: !hasPodman(),
}, async () => {
  await withSandbox(async (sb) => {
    const engines = bothEngines(sb, { CONTAINERS_CONF: "/dev/null" });
    const root = busyboxRoot(sb.dir);
    const notJson = `${sb.dir}/not.json`;
    await Deno.writeTextFile(notJson, "nojson\n");
    await sideBySide(sb, engines, async () => {
      for (const [opt, says] of REFUSED) {
        const o = opt.replace("NOTJSON", notJson);
        for (const name of ["podman", "ptd"] as const) {
          const args = ["run", "--rm", "--security-opt", o, "--rootfs", root];
          const r = await engines[name]([...args, "true"]);
          assertEquals(r.code, 125, `${name} ${o}: ${r.stderr}`);
          assertStringIncludes(r.stderr, says, `${name} ${o}`);
          assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
        }
      }
      assertEquals(ok(await engines.ptd(["ps", "-aq"])), "");
    });
  });
});

/**
 * A static program that makes syscall `nr` (first argument `arg0`, the rest
 * 0) and exits with its errno, 0 on success.
 */
async function syscallProgram(path: string, nr: number, arg0 = 0) {
  const asm = `.intel_syntax noprefix
.globl _start
_start:
  mov eax, ${nr}
  mov rdi, ${arg0}
  xor esi, esi
  xor edx, edx
  xor r10d, r10d
  xor r8d, r8d
  xor r9d, r9d
  syscall
  xor edi, edi
  test rax, rax
  jns 1f
  mov rdi, rax
  neg rdi
1:
  mov eax, 60
  syscall
`;
  await Deno.writeTextFile(`${path}.s`, asm);
  for (
    const [cmd, args] of [
      ["as", ["--64", "-o", `${path}.o`, `${path}.s`]],
      ["ld", ["-static", "-o", path, `${path}.o`]],
    ] as const
  ) {
    const out = await new Deno.Command(cmd, { args: [...args] }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
  }
  await Deno.remove(`${path}.s`);
  await Deno.remove(`${path}.o`);
}

/** x86-64 numbers and what the default profile answers (errno, 0: allowed). */
const CALLS: [string, number, number, number][] = [
  // name, number, first argument, errno under the default profile
  ["getpid", 39, 0, 0],
  ["kexec_load", 246, 0, 1], // EPERM: the profile's errnoRet
  ["vmsplice", 278, -1, 1], // EPERM; unconfined, EBADF
  ["add_key", 248, 0, 38], // not in the profile: its default, ENOSYS
  ["clone3", 435, 0, 22], // allowed: EINVAL for a null argument
];

async function seccompRoot(sb: Sandbox): Promise<string> {
  const root = busyboxRoot(sb.dir, ["grep", "mkdir", "sleep"]);
  for (const [name, nr, arg0] of CALLS) {
    await syscallProgram(`${root}/bin/sc-${name}`, nr, arg0);
  }
  return root;
}

/** Starts container "c" on `root` running `cmd` (by default a long sleep). */
async function startC(sb: Sandbox, root: string, cmd = ["sleep", "60"]) {
  ok(await ptd(sb, ["run", "-d", "--name", "c", "--rootfs", root, ...cmd]));
}

/** Each call's exit code (its errno) in `run` or `exec`. */
async function errnos(sb: Sandbox, args: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const [name] of CALLS) {
    out.push((await ptd(sb, [...args, `/bin/sc-${name}`])).code);
  }
  return out;
}

Deno.test(
  "the default profile answers with its errnos, in exec too; unconfined lifts it",
  {
    ignore: Deno.build.arch !== "x86_64",
  },
  async () => {
    await withSandbox(async (sb) => {
      const root = await seccompRoot(sb);
      const expected = CALLS.map((c) => c[3]);
      assertEquals(
        await errnos(sb, ["run", "--rm", "--rootfs", root]),
        expected,
      );
      await startC(sb, root);
      assertEquals(await errnos(sb, ["exec", "c"]), expected);
      const seccomp = ["grep", "Seccomp:", "/proc/self/status"];
      assertEquals(ok(await ptd(sb, ["exec", "c", ...seccomp])), "Seccomp:\t2");
      // A privileged exec keeps the container's filter, as under Podman
      // 4.3 (runc applies the container's to every exec).
      assertEquals(
        ok(await ptd(sb, ["exec", "--privileged", "c", ...seccomp])),
        "Seccomp:\t2",
      );
      const free = await errnos(sb, [
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "--rootfs",
        root,
      ]);
      assertEquals(free[0], 0);
      assertEquals(free[2], 9, "unconfined vmsplice reaches the kernel: EBADF");
      assert(free[3] !== 38, "unconfined add_key reaches the kernel");
    });
  },
);

Deno.test(
  "a call a profile does not name fails with ENOSYS whatever its defaultErrnoRet, as under Podman 4.3",
  { ignore: Deno.build.arch !== "x86_64" },
  async () => {
    await withSandbox(async (sb) => {
      const root = await seccompRoot(sb);
      // The default rules without clone3, their default errno EPERM: under
      // Podman 4.3 (runc) add_key and clone3 fail with ENOSYS all the same,
      // so that glibc falls back from clone3 to clone.
      const rules = JSON.parse(
        await Deno.readTextFile(profileFile(DEFAULT_SECCOMP_PROFILE)),
      );
      rules.defaultErrnoRet = 1;
      for (const r of rules.syscalls) {
        r.names = r.names.filter((n: string) => n !== "clone3");
      }
      const profile = `${sb.dir}/no-clone3.json`;
      await Deno.writeTextFile(profile, JSON.stringify(rules));
      const codes = await errnos(sb, [
        "run",
        "--rm",
        "--security-opt",
        `seccomp=${profile}`,
        "--rootfs",
        root,
      ]);
      assertEquals(codes, [0, 1, 1, 38, 38]);
    });
  },
);

Deno.test("a profile of one's own: denied mkdir fails with its errno", async () => {
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, ["mkdir"]);
    const profile = `${sb.dir}/no-mkdir.json`;
    await Deno.writeTextFile(
      profile,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{
          names: ["mkdir", "mkdirat"],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 5,
        }],
      }),
    );
    const run = ["run", "--rm", "--rootfs", root, "mkdir", "/tmp/d"];
    ok(await ptd(sb, run));
    const denied = await ptd(sb, [
      ...run.slice(0, 2),
      "--security-opt",
      `seccomp=${profile}`,
      ...run.slice(2),
    ]);
    assertEquals(denied.code, 1);
    assertStringIncludes(denied.stderr, "Input/output error");
    // containers.conf's seccomp_profile makes it every container's.
    const conf = `${sb.dir}/containers.conf`;
    await Deno.writeTextFile(
      conf,
      `[containers]\nseccomp_profile = "${profile}"\n`,
    );
    const configured = await ptd(sb, run, { env: { CONTAINERS_CONF: conf } });
    assertEquals(configured.code, 1);
    assertStringIncludes(configured.stderr, "Input/output error");
    const missing = await ptd(sb, [
      "run",
      "--rm",
      "--security-opt",
      `seccomp=${sb.dir}/none.json`,
      "--rootfs",
      root,
      "true",
    ]);
    assertEquals(missing.code, 125);
    assertStringIncludes(missing.stderr, "opening seccomp profile failed");
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
  });
});

Deno.test("no descriptor of ptd is open in the container, in exec either", async () => {
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, ["sleep"]);
    // ls's own directory fd is 3.
    const fds = ok(
      await ptd(sb, ["run", "--rm", "--rootfs", root, "ls", "/proc/self/fd"]),
    );
    assertEquals(fds.split(/\s+/), ["0", "1", "2", "3"]);
    await startC(sb, root);
    const inExec = ok(await ptd(sb, ["exec", "c", "ls", "/proc/self/fd"]));
    assertEquals(inExec.split(/\s+/), ["0", "1", "2", "3"]);
    const init = ok(await ptd(sb, ["exec", "c", "ls", "/proc/1/fd"]));
    assertEquals(init.split(/\s+/), ["0", "1", "2"]);
  });
});

/** Host pids of fuse-overlayfs daemons serving a container of `sb`'s store. */
function fuseDaemons(sb: Sandbox): number[] {
  return processesWith(`lowerdir=/,upperdir=${sb.env.PTD_ROOT}/`);
}

/** The container's state.json. */
function stateOf(sb: Sandbox, id: string) {
  return JSON.parse(
    Deno.readTextFileSync(`${sb.env.PTD_ROOT}/containers/${id}/state.json`),
  );
}

/** fuse-overlayfs children of `pid` (any of its threads), zombies too. */
function fuseChildren(pid: number): number[] {
  const kids: number[] = [];
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    const list = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/children`);
    kids.push(...list.split(" ").filter(Boolean).map(Number));
  }
  return kids.filter((k) => {
    try {
      return Deno.readTextFileSync(`/proc/${k}/comm`).trim() ===
        "fuse-overlayfs";
    } catch {
      return false;
    }
  });
}

async function untilNoDaemon(sb: Sandbox, what: string) {
  for (let i = 0; i < 100 && fuseDaemons(sb).length > 0; i++) {
    await new Promise((ok) => setTimeout(ok, 50));
  }
  assertEquals(fuseDaemons(sb), [], what);
}

Deno.test({
  name:
    "--rootfs / (fuse-overlayfs): the daemon serves the root from outside the container's PID namespace, and goes with it",
  ignore: !ROOTLESS,
  fn: () =>
    withSandbox(async (sb) => {
      // Every process the container can see, by name; the root is FUSE's.
      const look = [
        "grep -c ' / / .* fuse.fuse-overlayfs ' /proc/self/mountinfo",
        "cat /proc/[0-9]*/comm",
        "echo served > /tmp/ptd-fuse-check && cat /tmp/ptd-fuse-check",
      ].join("; ");
      const out = ok(
        await ptd(sb, ["run", "--rm", "--rootfs", "/", "sh", "-c", look]),
      ).split("\n").filter(Boolean);
      assertEquals(out[0], "1", out.join(" "));
      assertEquals(out.at(-1), "served");
      const seen = new Set(out.slice(1, -1));
      assert(!seen.has("fuse-overlayfs"), out.join(" "));
      assertEquals([...seen].filter((n) => n !== "sh" && n !== "cat"), []);
      await untilNoDaemon(sb, "after run --rm");

      const id = ok(
        await ptd(sb, ["run", "-d", "--rootfs", "/", "sleep", "100"]),
      );
      const ps = ok(await ptd(sb, ["exec", id, "ps", "-e", "-o", "comm="]));
      assertEquals(ps.split("\n").filter(Boolean).sort(), ["ps", "sleep"]);
      // It is there, on the host's side, a child of the monitor.
      const [daemon] = fuseDaemons(sb);
      assert(daemon > 0);
      const state = stateOf(sb, id);
      const ppid = Deno.readTextFileSync(`/proc/${daemon}/stat`)
        .split(") ")[1].split(" ")[1];
      assertEquals(Number(ppid), state.monitorPid);
      ok(await ptd(sb, ["rm", "-f", id]));
      await untilNoDaemon(sb, "after rm -f");

      // A monitor killed with SIGKILL takes its container along, and the
      // daemon, whose FUSE connection the kernel then aborts.
      const other = ok(
        await ptd(sb, ["run", "-d", "--rootfs", "/", "sleep", "100"]),
      );
      assertEquals(fuseDaemons(sb).length, 1);
      Deno.kill(stateOf(sb, other).monitorPid, "SIGKILL");
      await untilNoDaemon(sb, "after kill -9 of the monitor");
      ok(await ptd(sb, ["rm", "-f", other]));

      // Each run of a restarting container has a daemon of its own, and
      // the monitor ends and reaps each one: no zombie piles up.
      const again = ok(
        await ptd(sb, [
          "run",
          "-d",
          "--restart",
          "always",
          "--rootfs",
          "/",
          "sh",
          "-c",
          "sleep 1; exit 3",
        ]),
      );
      const mon = stateOf(sb, again).monitorPid;
      await until(() => (stateOf(sb, again).restartCount ?? 0) >= 2, 30_000);
      assert(fuseChildren(mon).length <= 1, `${fuseChildren(mon)}`);
      ok(await ptd(sb, ["rm", "-f", again]));
      await untilNoDaemon(sb, "after rm -f of a restarting container");
    }),
});

Deno.test("a working directory through /proc/self/fd never leads out of the root", async () => {
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir);
    // Whatever descriptor init holds, none may be entered: either the
    // directory cannot be made or the container is refused, and a container
    // that starts is in its own root (busybox's pwd -P prints nothing for a
    // directory outside it).
    for (let n = 3; n <= 40; n++) {
      const r = await ptd(sb, [
        "run",
        "--rm",
        "-w",
        `/proc/self/fd/${n}`,
        "--rootfs",
        root,
        "sh",
        "-c",
        'case "$(pwd -P)" in /*) echo inside;; *) echo outside;; esac',
      ]);
      assert(
        r.code !== 0 || r.stdout.endsWith("inside\n"),
        `fd ${n}: ${r.stdout} ${r.stderr}`,
      );
    }
  });
});

Deno.test("cp racing a symlink swap inside the container never reaches the host", async () => {
  await withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir, ["mkdir", "mv", "ln", "rm", "sleep"]);
    const host = `${sb.dir}/host`;
    await Deno.mkdir(host);
    await Deno.writeTextFile(`${host}/f`, "HOSTSECRET\n");
    // /x/d is a directory of the container one moment, a link to the
    // host's directory (absolute, and climbing) the next.
    const swap = [
      "mkdir -p /x/real && echo inside > /x/real/f",
      `while :; do mv /x/real /x/d; mv /x/d /x/real; ln -s ${host} /x/d; rm /x/d; ln -s ../../../../../../../..${host} /x/d; rm /x/d; done`,
    ].join("; ");
    await startC(sb, root, ["sh", "-c", swap]);
    await Deno.writeTextFile(`${sb.dir}/evil`, "EVIL\n");
    let copied = 0;
    for (let i = 0; i < 25; i++) {
      const out = `${sb.dir}/out-${i}`;
      const read = await ptd(sb, ["cp", "c:/x/d/f", out]);
      if (read.code === 0) {
        copied++;
        assertEquals(await Deno.readTextFile(out), "inside\n");
      }
      await ptd(sb, ["cp", `${sb.dir}/evil`, "c:/x/d/g"]);
    }
    assertEquals([...Deno.readDirSync(host)].map((e) => e.name), ["f"]);
    assertEquals(await Deno.readTextFile(`${host}/f`), "HOSTSECRET\n");
    assert(copied > 0, "the race never let a copy through at all");
  });
});
