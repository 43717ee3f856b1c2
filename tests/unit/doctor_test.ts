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
  assertEquals(c.cgroups.detail, "v1: rootless resource limits unavailable");
});
