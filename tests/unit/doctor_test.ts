import { assertEquals } from "../assert.ts";
import { type Host, runChecks } from "../../src/doctor/checks.ts";

function fakeHost(
  over: Partial<Host> = {},
  files: Record<string, string> = {},
): Host {
  const fs: Record<string, string> = {
    "/etc/subuid": "alice:100000:65536\n",
    "/etc/subgid": "alice:100000:65536\n",
    "/proc/filesystems": "nodev\toverlay\n",
    ...files,
  };
  const setuid = { mode: 0o104755, uid: 0 } as Deno.FileInfo;
  return {
    read: (p) => fs[p],
    stat: (p) =>
      p.startsWith("/usr/bin/new")
        ? setuid
        : p in fs || p.startsWith("/dev/") || p === "/run/user/1000"
        ? ({ mode: 0o40700, uid: 1000 } as Deno.FileInfo)
        : undefined,
    which: (c) => `/usr/bin/${c}`,
    uid: 1000,
    user: "alice",
    env: (n) => n === "XDG_RUNTIME_DIR" ? "/run/user/1000" : undefined,
    kernel: "6.1.0-18-amd64",
    tryUserNamespace: () => Promise.resolve(undefined),
    canOpen: () => true,
    ...over,
  };
}

const byName = async (host: Host) =>
  Object.fromEntries((await runChecks(host)).map((c) => [c.name, c]));

Deno.test("doctor: a well set-up rootless host fails nothing", async () => {
  const checks = await runChecks(
    fakeHost({}, { "/sys/fs/cgroup/cgroup.controllers": "cpu memory" }),
  );
  assertEquals(checks.filter((c) => c.status === "fail"), []);
});

Deno.test("doctor: each gap names the command that fixes it", async () => {
  const c = await byName(fakeHost({
    which: (cmd) => cmd === "newuidmap" ? undefined : `/usr/bin/${cmd}`,
    canOpen: (p) => p !== "/dev/fuse",
    tryUserNamespace: () =>
      Promise.resolve("clone: EPERM (Operation not permitted)"),
    kernel: "5.10.0",
  }, {
    "/etc/subgid": "",
    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n",
  }));
  assertEquals(c.newuidmap.fix, "sudo apt-get install uidmap");
  assertEquals(
    c["/etc/subgid"].fix,
    "sudo usermod --add-subgids 100000-165535 alice",
  );
  assertEquals(c["/etc/subuid"].status, "ok");
  assertEquals(
    c["user namespaces"].fix,
    "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
  );
  assertEquals(c["/dev/fuse"].fix, "sudo chmod 0666 /dev/fuse");
  assertEquals(c.overlay.status, "warn");
  assertEquals(
    c.cgroups.detail,
    "this host has cgroup v1 (no v2, which only root may use): resource limits, stats and pause unavailable",
  );
  assertEquals(c.lingering.fix, "sudo loginctl enable-linger alice");
});

Deno.test("doctor: cgroup delegation and lingering", async () => {
  const svc = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service";
  const v2 = {
    "/sys/fs/cgroup/cgroup.controllers": "cpu memory pids",
    [svc]: "",
    [`${svc}/cgroup.subtree_control`]: "cpu memory pids",
    "/proc/self/cgroup":
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope",
    "/var/lib/systemd/linger/alice": "",
  };
  const good = await byName(fakeHost({}, v2));
  assertEquals(good.cgroups.detail, "v2, delegated: cpu memory pids");
  assertEquals(good.lingering.status, "ok");
  const noCpu = await byName(
    fakeHost({}, { ...v2, [`${svc}/cgroup.subtree_control`]: "memory pids" }),
  );
  assertEquals(noCpu.cgroups.detail, "v2, delegated without cpu");
  const noService = await byName(fakeHost({}, {
    "/sys/fs/cgroup/cgroup.controllers": "cpu memory pids",
  }));
  assertEquals(noService.cgroups.fix, "sudo loginctl enable-linger alice");
});

Deno.test("doctor: helpers that are not setuid root, no /dev/net/tun, a runtime dir not ours", async () => {
  const base = fakeHost();
  const file = (mode: number, uid: number) => ({ mode, uid }) as Deno.FileInfo;
  const c = await byName(fakeHost({
    stat: (p) =>
      p === "/usr/bin/newgidmap"
        ? file(0o100755, 0)
        : p === "/usr/bin/newuidmap"
        ? file(0o104755, 1000) // setuid, but not root's
        : p === "/dev/net/tun"
        ? undefined
        : p === "/run/user/1000"
        ? file(0o40700, 0)
        : base.stat(p),
  }));
  assertEquals(c.newgidmap.fix, "sudo chmod u+s /usr/bin/newgidmap");
  assertEquals(c.newuidmap.detail, "/usr/bin/newuidmap is not setuid root");
  assertEquals(c["/dev/net/tun"].fix, "sudo modprobe tun");
  assertEquals(c.XDG_RUNTIME_DIR.detail, "/run/user/1000 is not yours");
  assertEquals((await byName(base)).XDG_RUNTIME_DIR.status, "ok");
  const unset = await byName(fakeHost({ env: () => undefined }));
  assertEquals(
    unset.XDG_RUNTIME_DIR.detail,
    "not set: runtime state goes to /tmp/ptd-run-1000",
  );
});
