/**
 * Rootless limits in a real delegated cgroup v2 subtree (the qemu guest of
 * scripts/guest/run.sh): each container gets a cgroup of its own under
 * user@UID.service, limits land in its files and bite, and update, pause,
 * stats and the OOM record work on it. Few commands: each ptd start costs
 * about a second under emulation.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { busyboxRoot, ok, ptd, sleep, withSandbox } from "../helpers.ts";
import { guestTest, sessionTest, sh } from "./guest.ts";

/** The cgroup directory of process `pid`. */
function cgroupOf(pid: number): string {
  const line = Deno.readTextFileSync(`/proc/${pid}/cgroup`).split("\n")
    .find((l) => l.startsWith("0::"))!;
  return `/sys/fs/cgroup${line.slice(3)}`;
}

const read = (dir: string, file: string) =>
  Deno.readTextFileSync(`${dir}/${file}`).trim();

const APPLETS = ["sleep", "dd", "seq", "true"];

/** `run NAME` with `opts`, no network, on `root` (options after it are the command's). */
const runIn = (root: string, name: string, ...opts: string[]) => [
  "run",
  "--name",
  name,
  "--network",
  "none",
  ...opts,
  "--rootfs",
  root,
];

guestTest(
  "guest: --memory, update, pause/unpause and stats on a running container",
  () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir, APPLETS);
      const id = ok(
        await ptd(sb, [
          ...runIn(root, "lim", "-d", "--memory", "64m"),
          "sleep",
          "600",
        ]),
      ).trim();
      const info = JSON.parse(ok(await ptd(sb, ["inspect", "lim"])))[0];
      const cg = cgroupOf(info.State.Pid);
      // The default manager is systemd: a transient scope of the user's.
      assertMatch(
        cg,
        new RegExp(`/user@\\d+\\.service/user\\.slice/ptd-${id}\\.scope$`),
      );
      assertMatch(
        (await sh(`systemctl --user show -P Delegate ptd-${id}.scope`)).out,
        /^yes/,
      );
      assertEquals(read(cg, "memory.max"), "67108864");
      assertEquals(info.HostConfig.Memory, 67108864);
      // The monitor stays outside the limit.
      assert(
        cgroupOf(info.State.ConmonPid) !== cg,
        "monitor in the container's cgroup",
      );

      ok(
        await ptd(sb, [
          "update",
          "--memory",
          "128m",
          "--pids-limit",
          "50",
          "lim",
        ]),
      );
      assertEquals(read(cg, "memory.max"), "134217728");
      assertEquals(read(cg, "pids.max"), "50");

      ok(await ptd(sb, ["pause", "lim"]));
      assertMatch(read(cg, "cgroup.events"), /frozen 1/);
      const paused = JSON.parse(ok(await ptd(sb, ["inspect", "lim"])))[0].State;
      assertEquals([paused.Status, paused.Paused], ["paused", true]);
      ok(await ptd(sb, ["unpause", "lim"]));
      assertMatch(read(cg, "cgroup.events"), /frozen 0/);

      const stats = JSON.parse(
        ok(await ptd(sb, ["stats", "--no-stream", "--format", "json", "lim"])),
      );
      assertEquals(Object.keys(stats[0]), [
        "id",
        "name",
        "cpu_time",
        "cpu_percent",
        "avg_cpu",
        "mem_usage",
        "mem_percent",
        "net_io",
        "block_io",
        "pids",
      ]);
      assertEquals(stats[0].id, id.slice(0, 12));
      // --no-trunc: the whole id, as Podman's stats gives it then.
      assertEquals(
        ok(
          await ptd(sb, [
            "stats",
            "--no-stream",
            "--no-trunc",
            "--format",
            "{{.ID}}",
            "lim",
          ]),
        ).trim(),
        id,
      );
      assertMatch(stats[0].mem_usage, / \/ 134.2MB$/);
      assertEquals(stats[0].pids, "1");
      ok(await ptd(sb, ["rm", "-f", "-t", "0", "lim"]));
      assertThrows(() => Deno.statSync(cg), /No such file/);

      // stop thaws a paused container first: its TERM handler runs.
      ok(
        await ptd(sb, [
          ...runIn(root, "pz", "-d"),
          "sh",
          "-c",
          "trap 'exit 3' TERM; sleep 600 & wait",
        ]),
      );
      ok(await ptd(sb, ["pause", "pz"]));
      ok(await ptd(sb, ["stop", "-t", "20", "pz"]));
      const pz = JSON.parse(ok(await ptd(sb, ["inspect", "pz"])))[0].State;
      assertEquals([pz.ExitCode, pz.Paused], [3, false]);

      // --cgroupns private (the default on v2): the container's own cgroup
      // is the root of its view, and the one mounted on /sys/fs/cgroup;
      // cgroupfs still places it by hand, from inside the delegation.
      const own = ok(
        await ptd(sb, [
          "--cgroup-manager",
          "cgroupfs",
          ...runIn(root, "ns", "--rm", "--pids-limit", "30"),
          "sh",
          "-c",
          "cat /proc/self/cgroup /sys/fs/cgroup/pids.max",
        ]),
      );
      assertEquals(own.trim().split("\n"), ["0::/", "30"]);
    }),
);

guestTest(
  "guest: a process over --memory is OOM-killed: exit 137, OOMKilled",
  () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir, APPLETS);
      const r = await ptd(sb, [
        ...runIn(root, "oom", "--memory", "64m"),
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=200M",
        "count=1",
      ]);
      assertEquals(r.code, 137, r.stderr);
      const st = JSON.parse(ok(await ptd(sb, ["inspect", "oom"])))[0].State;
      assertEquals([st.OOMKilled, st.ExitCode], [true, 137]);
      const events = ok(
        await ptd(sb, [
          "events",
          "--stream=false",
          "--filter",
          "event=oom",
          "--format",
          "{{.Status}} {{.Name}}",
        ]),
      );
      assertEquals(events.trim().split("\n"), ["oom oom"]);
    }),
);

guestTest(
  "guest: --cpus 0.5 holds a busy loop near half a core; --pids-limit 20 stops a fork bomb",
  () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir, APPLETS);
      ok(
        await ptd(sb, [
          ...runIn(root, "busy", "-d", "--cpus", "0.5"),
          "sh",
          "-c",
          "while :; do :; done",
        ]),
      );
      ok(
        await ptd(sb, [
          ...runIn(root, "bomb", "-d", "--pids-limit", "20"),
          "sh",
          "-c",
          // A failed fork ends the subshell, not PID 1 (it only waits).
          "sleep 600 & (for i in $(seq 1 60); do sleep 600 & done); wait",
        ]),
      );
      const busy = cgroupOf(
        JSON.parse(ok(await ptd(sb, ["inspect", "busy"])))[0].State.Pid,
      );
      assertEquals(read(busy, "cpu.max"), "50000 100000");
      const usage = () =>
        Number(/usage_usec (\d+)/.exec(read(busy, "cpu.stat"))![1]);
      const [u0, t0] = [usage(), performance.now()];
      await sleep(6000);
      const share = (usage() - u0) / 1000 / (performance.now() - t0);
      assert(share > 0.2 && share < 0.6, `busy loop used ${share} of a core`);
      const stats = JSON.parse(
        ok(await ptd(sb, ["stats", "--no-stream", "--format", "json", "busy"])),
      );
      const cpu = parseFloat(stats[0].cpu_percent);
      // One reading averages since the start, which init's own work (in the
      // cgroup, before startedAt) inflates a little.
      assert(cpu > 15 && cpu < 80, `stats says ${stats[0].cpu_percent}`);

      const bomb = cgroupOf(
        JSON.parse(ok(await ptd(sb, ["inspect", "bomb"])))[0].State.Pid,
      );
      assertEquals(read(bomb, "pids.max"), "20");
      const current = Number(read(bomb, "pids.current"));
      assert(current >= 15 && current <= 20, `${current} processes`);
      assertMatch(read(bomb, "pids.events"), /^max [1-9]/);
    }),
);

sessionTest(
  "guest session: from a login session's scope, the default systemd manager still gives a limited scope; cgroupfs cannot",
  () =>
    withSandbox(async (sb) => {
      const root = busyboxRoot(sb.dir, APPLETS);
      const self = cgroupOf(Deno.pid);
      assert(!/\/user@\d+\.service\//.test(self), `ptd runs in ${self}`);
      const id = ok(
        await ptd(sb, [
          ...runIn(root, "sess", "-d", "--memory", "64m"),
          "sleep",
          "600",
        ]),
      ).trim();
      const pid =
        JSON.parse(ok(await ptd(sb, ["inspect", "sess"])))[0].State.Pid;
      const cg = cgroupOf(pid);
      assertMatch(
        cg,
        new RegExp(`/user@\\d+\\.service/user\\.slice/ptd-${id}\\.scope$`),
      );
      assertEquals(read(cg, "memory.max"), "67108864");
      ok(await ptd(sb, ["rm", "-f", "-t", "0", "sess"]));
      assertThrows(() => Deno.statSync(cg), /No such file/);
      const r = await ptd(sb, [
        "--cgroup-manager",
        "cgroupfs",
        ...runIn(root, "fs", "--memory", "64m"),
        "true",
      ]);
      assertEquals(r.code, 125);
      assertMatch(r.stderr, /ptd runs outside your delegated cgroup/);
    }),
);
