/**
 * Resource limits on a host without a delegated cgroup v2 subtree (these
 * hosts: hybrid cgroups, no systemd): every limit flag is refused in one
 * line that names the reason and `ptd doctor`'s fix, exit 125, and nothing
 * is left behind. (Podman warns and runs without the limit.) Bad values are
 * answered in Podman's words first. The limits themselves are tested in the
 * qemu guest (tests/guest/).
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { busyboxRoot, ok, ptd, withSandbox } from "../helpers.ts";

const delegated = (() => {
  try {
    Deno.statSync("/sys/fs/cgroup/cgroup.controllers");
    return true;
  } catch {
    return false;
  }
})();

const LIMITS: [string, string][] = [
  ["--memory", "64m"],
  ["--memory-swap", "-1"],
  ["--memory-reservation", "32m"],
  ["--cpus", "0.5"],
  ["--cpu-shares", "512"],
  ["--cpu-quota", "50000"],
  ["--cpu-period", "100000"],
  ["--cpuset-cpus", "0"],
  ["--cpuset-mems", "0"],
  ["--pids-limit", "20"],
  ["--blkio-weight", "500"],
];

Deno.test({
  name: "limits: each flag is refused in one line on a host without delegation",
  ignore: delegated,
  fn: () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir);
      for (const [flag, value] of LIMITS) {
        for (const verb of ["run", "create"]) {
          const r = await ptd(sb, [
            verb,
            "--name",
            "x",
            flag,
            value,
            "--rootfs",
            root,
            "true",
          ]);
          assertEquals(r.code, 125, `${verb} ${flag}`);
          assertEquals(r.stdout, "");
          assertMatch(
            r.stderr,
            new RegExp(
              `^Error: ${flag} needs a cgroup v2 subtree delegated to you, but this host has (hybrid cgroups|cgroup v1).*; fix \\(see ptd doctor\\): boot with systemd.unified_cgroup_hierarchy=1\\n$`,
            ),
          );
        }
      }
      assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
      // update refuses them too, and the container keeps what it had.
      ok(await ptd(sb, ["create", "--name", "c", "--rootfs", root, "true"]));
      const u = await ptd(sb, ["update", "--memory", "64m", "c"]);
      assertEquals(u.code, 125);
      assertMatch(u.stderr, /^Error: --memory needs a cgroup v2 subtree/);
      const host =
        JSON.parse(ok(await ptd(sb, ["inspect", "c"])))[0].HostConfig;
      assertEquals([host.Memory, host.PidsLimit], [0, 0]);
      const s = await ptd(sb, ["stats", "--no-stream"]);
      assertEquals(s.code, 125);
      assertMatch(
        s.stderr,
        /^Error: stats is not supported in rootless mode without cgroups v2: /,
      );
    }),
});

Deno.test("limits: bad values in Podman's words; settings that need no cgroup are kept", () =>
  withSandbox(async (sb) => {
    const root = busyboxRoot(sb.dir);
    const cases: [string[], string][] = [
      [["--memory", "abc"], "invalid value for memory: invalid size: 'abc'"],
      [
        ["--cpus", "abc"],
        'invalid argument "abc" for "--cpus" flag: strconv.ParseFloat: parsing "abc": invalid syntax',
      ],
      [
        ["--cpu-shares", "x"],
        'invalid argument "x" for "-c, --cpu-shares" flag: strconv.ParseUint: parsing "x": invalid syntax',
      ],
      [
        ["--pids-limit", "x"],
        'invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax',
      ],
      [
        ["--cpus", "1", "--cpu-quota", "10000"],
        "--cpu-quota and --cpus cannot be set together",
      ],
      [
        ["--cgroups", "foo"],
        'running container create option: invalid cgroup mode "foo": invalid argument',
      ],
      [["--cgroupns", "foo"], "unrecognized namespace mode foo passed"],
      [
        ["--cgroups", "disabled", "--memory", "64m"],
        "--memory: cannot set resource limits when cgroups are disabled (--cgroups disabled)",
      ],
    ];
    for (const [opts, says] of cases) {
      const r = await ptd(sb, ["create", ...opts, "--rootfs", root, "true"]);
      assertEquals(
        [r.code, r.stderr],
        [125, `Error: ${says}\n`],
        opts.join(" "),
      );
    }
    assertEquals(ok(await ptd(sb, ["ps", "-aq"])), "");
    const r = await ptd(sb, [
      "run",
      "--name",
      "adj",
      "--oom-score-adj",
      "500",
      "--cgroups",
      "disabled",
      "--cgroupns",
      "host",
      "--rootfs",
      root,
      "cat",
      "/proc/self/oom_score_adj",
    ]);
    assertEquals([r.code, r.stdout], [0, "500\n"], r.stderr);
    const host =
      JSON.parse(ok(await ptd(sb, ["inspect", "adj"])))[0].HostConfig;
    assertEquals([host.OomScoreAdj, host.Cgroups, host.CgroupMode], [
      500,
      "disabled",
      "host",
    ]);
    assert(host.PidsLimit === 0);
  }));

Deno.test({
  name:
    "cgroupns: private is a namespace of the container's own with cgroup2 on /sys/fs/cgroup; host, the default on v1, is ours",
  ignore: delegated,
  fn: () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir);
      const ours = Deno.readLinkSync("/proc/self/ns/cgroup");
      const view = async (...opts: string[]) =>
        ok(
          await ptd(sb, [
            "run",
            "--rm",
            ...opts,
            "--rootfs",
            root,
            "sh",
            "-c",
            "readlink /proc/self/ns/cgroup; grep ' /sys/fs/cgroup ' /proc/self/mounts | cut -d' ' -f3,4 | cut -d, -f1; true",
          ]),
        ).trim().split("\n");
      const [ns, mounted] = await view("--cgroupns", "private");
      assert(ns !== ours, "no cgroup namespace of its own");
      assertEquals(mounted, "cgroup2 ro");
      assertEquals(await view("--cgroupns", "host"), [ours]);
      assertEquals(await view(), [ours]);
      ok(await ptd(sb, ["create", "--name", "dflt", "--rootfs", root, "true"]));
      const host =
        JSON.parse(ok(await ptd(sb, ["inspect", "dflt"])))[0].HostConfig;
      assertEquals(host.CgroupMode, "host");
    }),
});
