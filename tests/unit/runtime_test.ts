import { assert, assertEquals, assertThrows } from "../assert.ts";
import { FakeExec, RecordingSyscalls } from "../../ffi/fake.ts";
import { spec } from "./init_spec.ts";
import { SysError } from "../../ffi/errno.ts";
import { runInit } from "../../src/runtime/init.ts";
import { type PathProbe } from "../../src/runtime/process.ts";
import {
  DEVICES,
  type MountSpec,
  type RuntimeSpec,
} from "../../src/runtime/spec.ts";
import { PtdError } from "../../src/runtime/errors.ts";
import {
  capNumber,
  DEFAULT_CAPS,
  resolveCaps,
} from "../../src/runtime/caps.ts";
import { resolveUser, withUserEntries } from "../../src/runtime/user.ts";
import { idMapsFor, subRanges, toHost } from "../../src/runtime/idmap.ts";
import { cloneFlags } from "../../src/runtime/create.ts";
import {
  CLONE_NEWPID,
  CLONE_NEWUTS,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REMOUNT,
} from "../../ffi/constants.ts";

const NSN = MS_NOSUID | MS_NODEV | MS_NOEXEC;
/** The remount that makes a bind mount on `target` read-only. */
const roRemount = (target: string) =>
  `mount null ${target} null ${MS_BIND | MS_REMOUNT | MS_RDONLY | NSN} null`;

const probe: PathProbe = {
  stat: (p) => p === "/bin/sh" ? { kind: "file", mode: 0o755 } : undefined,
};
const passwd =
  "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
const group = "root:x:0:\nbob:x:1000:\nwheel:x:10:bob\n";
const read = (p: string) =>
  p === "/etc/passwd" ? passwd : p === "/etc/group" ? group : "";

function init(sys: RecordingSyscalls, s: RuntimeSpec): FakeExec {
  try {
    runInit(sys, s, probe, read, 40);
  } catch (e) {
    if (e instanceof FakeExec) return e;
    throw e;
  }
  throw new Error("init returned");
}

Deno.test("init: mounts in order, pivots before /proc, detaches the old root last", () => {
  const sys = new RecordingSyscalls();
  sys.dirs.add("/proc/sys");
  sys.dirs.add("/proc/acpi");
  sys.files.add("/proc/kcore");
  const exec = init(sys, spec());
  const t = sys.trace();
  const at = (prefix: string) => {
    const i = t.findIndex((l) => l.startsWith(prefix));
    assert(i >= 0, `no "${prefix}" in the trace`);
    return i;
  };
  assertEquals(t[0], `mount null / null ${0x4000 | 0x40000} null`);
  assert(
    t[1].startsWith(
      "mount overlay /m overlay 0 lowerdir=/l,upperdir=/u,workdir=/w,userxattr",
    ),
  );
  assert(at("open_path /dev/null") < at("pivot_root"));
  assert(at("open_path /run/c/hosts") < at("pivot_root"));
  assert(at("chdir /m") < at("pivot_root . ."));
  assert(at("pivot_root") < at("mount proc /proc proc"));
  assert(at("mount sysfs /sys sysfs") < at("umount . 2"));
  for (const d of DEVICES) {
    const bind = t.findIndex((l) =>
      l.startsWith("mount /proc/self/fd/") && l.includes(` /dev/${d} `)
    );
    assert(bind > at("mount tmpfs /dev tmpfs"), `/dev/${d} is not bound`);
  }
  assert(t.includes("symlink pts/ptmx /dev/ptmx"));
  assert(at("mount shm /dev/shm tmpfs") < at("mount mqueue /dev/mqueue"));
  assert(t.includes(`mount sysfs /sys sysfs ${NSN | MS_RDONLY} null`));
  assert(t.includes("mount /dev/null /proc/kcore null 4096 null"));
  assert(t.includes(`mount tmpfs /proc/acpi tmpfs ${MS_RDONLY} size=0k`));
  assertEquals(t[at("mount /proc/sys /proc/sys") + 1], roRemount("/proc/sys"));
  assert(
    t.some((l) =>
      l.startsWith("mount devpts /dev/pts devpts") && !l.includes("gid=5")
    ),
  );
  assert(at("umount . 2") < at("sethostname box"));
  assertEquals(t.filter((l) => l === "link_up lo").length, 1);
  // credentials after the rootfs, then exec
  assert(at("mkdir /work") < at("chdir /work"));
  assertEquals(
    t.filter((l) => l.startsWith("capbset_drop")).length,
    41 - DEFAULT_CAPS.length,
  );
  // keepcaps holds the capabilities across the uid change, for capset
  assert(
    at("keepcaps true") < at("setgroups") &&
      at("setgroups") < at("setresgid 0") &&
      at("setresgid 0") < at("setresuid 0") &&
      at("setresuid 0") < at("keepcaps false"),
  );
  assert(at("keepcaps false") < at("capset"));
  assert(!t.includes("no_new_privs"));
  assertEquals(t[t.length - 1], "execve /bin/sh [sh,-c,true]");
  assert(exec.env.includes("A=1") && exec.env.includes("HOME=/root"));
  assert(exec.env.includes("HOSTNAME=box"));
  // PATH is the container's own: a default at create, gone if unset.
  assert(!exec.env.some((e) => e.startsWith("PATH=")));
});

/** Runs init with `over`; the trace and the fd its /dev/null got, if any. */
function execTail(
  over: Partial<RuntimeSpec["process"]>,
  dieWithParent: boolean,
) {
  const sys = new RecordingSyscalls();
  let devNull: number | undefined;
  const openRead = sys.openRead.bind(sys);
  sys.openRead = (path) => {
    const fd = openRead(path);
    if (path === "/dev/null") devNull = fd;
    return fd;
  };
  init(sys, spec({ process: { ...spec().process, ...over }, dieWithParent }));
  return { t: sys.trace(), devNull };
}

Deno.test("init: stdin is /dev/null without -i; the parent-death signal is set after the credentials, just before exec", () => {
  const { t, devNull } = execTail({}, true);
  const open = t.indexOf("open_read /dev/null");
  assert(open > 0 && devNull !== undefined);
  assertEquals(t[open + 1], `dup2 ${devNull} 0`);
  // setresuid clears the parent-death signal: it must come after it.
  assertEquals(t.slice(t.findIndex((l) => l.startsWith("capset")) + 1), [
    "pdeathsig 9",
    "reset_for_exec",
    "execve /bin/sh [sh,-c,true]",
  ]);
  assert(open < t.indexOf("setresuid 0"));

  const kept = execTail({ stdin: true }, false);
  assertEquals(kept.devNull, undefined);
  assert(!kept.t.some((l) => / 0$/.test(l) && l.startsWith("dup2")));
  assert(!kept.t.some((l) => l.startsWith("pdeathsig")));
});

/** Syscalls whose kernel refuses the native overlay (--rootfs / rootless). */
function overlayRefused(): RecordingSyscalls {
  const sys = new RecordingSyscalls();
  sys.failures.push((c) =>
    c.name === "mount" && c.args[2] === "overlay"
      ? new SysError("mount", 22, "Invalid argument")
      : undefined
  );
  return sys;
}

Deno.test("init: native overlay refused rootless -> a FUSE mount whose descriptor goes to the parent", () => {
  const sys = overlayRefused();
  init(sys, spec({ fuseSocket: 7 }));
  const t = sys.trace();
  const open = t.indexOf("open_fuse");
  assert(open > 0);
  // no daemon of init's own: it mounts, hands the connection over, and
  // pivots into the mount itself
  assertEquals(t.slice(open + 1, open + 5), [
    `mount fuse-overlayfs /m fuse.fuse-overlayfs ${
      0x4 | 0x400
    } fd=10,rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other`,
    "send_fd 7 10",
    "close 10",
    "close 7",
  ]);
  assert(t.indexOf("chdir /m") < t.indexOf("pivot_root . ."));
  assert(!t.some((l) => l.startsWith("chroot")));
});

Deno.test("init: a native overlay closes the FUSE socket unused", () => {
  const sys = new RecordingSyscalls();
  init(sys, spec({ fuseSocket: 7 }));
  const t = sys.trace();
  assert(
    t.indexOf("close 7") > t.findIndex((l) => l.startsWith("mount overlay")),
  );
  assert(!t.includes("open_fuse"));
});

Deno.test("init: without a FUSE socket the refused overlay is the error", () => {
  const sys = overlayRefused();
  assertThrows(() => init(sys, spec()), /Invalid argument/);
});

Deno.test("init: rootful keeps the overlay error, uses gid=5 for devpts", () => {
  const sys = new RecordingSyscalls();
  init(sys, spec({ rootless: false }));
  assert(
    sys.trace().some((l) =>
      l.startsWith("mount devpts") && l.includes("gid=5")
    ),
  );
  assert(!sys.trace()[1].includes("userxattr"));
  const failing = new RecordingSyscalls();
  failing.failures.push((c) =>
    c.args[2] === "overlay"
      ? new SysError("mount", 22, "Invalid argument")
      : undefined
  );
  assertThrows(() => init(failing, spec({ rootless: false })), /EINVAL/);
});

Deno.test("init: host network binds /sys read-only, privileged skips masks, read-only root", () => {
  const sys = new RecordingSyscalls();
  sys.files.add("/proc/kcore");
  init(
    sys,
    spec({ privateNetwork: false, privileged: true, readonlyRootfs: true }),
  );
  const t = sys.trace();
  assert(!t.includes("link_up lo"));
  assert(!t.some((l) => l.startsWith("mount sysfs")));
  const sysBind = t.findIndex((l) =>
    l.startsWith("mount /proc/self/fd/") && l.includes(" /sys ")
  );
  assert(sysBind > 0);
  assertEquals(t[sysBind + 1], roRemount("/sys"));
  assert(!t.some((l) => l.startsWith("mount /dev/null /proc/kcore")));
  assert(t.includes(`mount null / null ${0x1000 | 0x20 | 0x1} null`));
});

Deno.test("init: missing command is 127 before any credential change", () => {
  const sys = new RecordingSyscalls();
  const e = assertThrows(
    () =>
      runInit(
        sys,
        spec({ process: { ...spec().process, args: ["nope"] } }),
        probe,
        read,
        40,
      ),
  ) as PtdError;
  assertEquals(e.kind, "command-not-found");
  assertEquals(e.exitCode, 127);
  assertEquals(e.message, "nope: executable file not found in $PATH");
  assert(!sys.trace().some((l) => l.startsWith("setresuid")));
});

Deno.test("init: execve failing with ENOENT is 127, with anything else 126", () => {
  for (const [errno, name, code] of [[2, "ENOENT", 127], [13, "EACCES", 126]]) {
    const sys = new RecordingSyscalls();
    sys.failures.push((c) =>
      c.name === "execve"
        ? new SysError("execve", errno as number, String(name))
        : undefined
    );
    const e = assertThrows(() => init(sys, spec())) as PtdError;
    assert(e instanceof PtdError);
    assertEquals(e.exitCode, code);
    assert(e.message.startsWith("sh: "), e.message);
  }
});

Deno.test("init: a non-executable file is 126; a dir is 126", () => {
  const p: PathProbe = {
    stat: (x) =>
      x === "/x" ? { kind: "file", mode: 0o644 } : { kind: "dir", mode: 0o755 },
  };
  for (const cmd of ["/x", "/etc"]) {
    const e = assertThrows(
      () =>
        runInit(
          new RecordingSyscalls(),
          spec({ process: { ...spec().process, args: [cmd] } }),
          p,
          read,
          40,
        ),
    ) as PtdError;
    assertEquals(e.kind, "cannot-invoke");
    assertEquals(e.exitCode, 126);
  }
});

Deno.test("init: -u bob gets bob's ids, groups and home", () => {
  const sys = new RecordingSyscalls();
  const exec = init(
    sys,
    spec({
      process: { ...spec().process, user: "bob", noNewPrivileges: true },
    }),
  );
  const t = sys.trace();
  const capset = t.findIndex((l) => l.startsWith("capset "));
  assertEquals(t[capset + 1], "no_new_privs");
  assert(
    t.includes("setgroups [1000,10]") && t.includes("setresgid 1000") &&
      t.includes("setresuid 1000"),
  );
  assert(exec.env.includes("HOME=/home/bob"));
});

Deno.test("user: Docker's --user forms", () => {
  assertEquals(resolveUser("", passwd, group), {
    uid: 0,
    gid: 0,
    groups: [],
    home: "/root",
  });
  assertEquals(resolveUser("1000", passwd, group).groups, [10]);
  // As Podman's run (not its exec), a user given has its primary group
  // among its groups.
  assertEquals(resolveUser("1000", passwd, group, [], true).groups, [1000, 10]);
  assertEquals(resolveUser("4242:4343", passwd, group, [], true), {
    uid: 4242,
    gid: 4343,
    groups: [4343],
    home: "/",
  });
  assertEquals(resolveUser("", passwd, group, [], true).groups, []);
  assertEquals(resolveUser("bob:wheel", passwd, group).gid, 10);
  assertEquals(resolveUser("bob", passwd, group, ["root"]).groups, [10, 0]);
  // --group-add of the primary group lists it (Podman does).
  assertEquals(resolveUser("bob", passwd, group, ["bob"]).groups, [10, 1000]);
  assertEquals(resolveUser("", passwd, group, ["root"]).groups, [0]);
  assertThrows(
    () => resolveUser("alice", passwd, group),
    /unable to find user alice/,
  );
  assertThrows(
    () => resolveUser("bob:nogroup", passwd, group),
    /unable to find group nogroup/,
  );
});

Deno.test("caps: defaults, drop, add, ALL, privileged, bad names", () => {
  assertEquals(resolveCaps([], [], false), DEFAULT_CAPS);
  assert(!resolveCaps([], ["chown"], false).includes("CAP_CHOWN"));
  assert(resolveCaps(["NET_ADMIN"], [], false).includes("CAP_NET_ADMIN"));
  assertEquals(resolveCaps(["CAP_KILL"], ["ALL"], false), ["CAP_KILL"]);
  assertEquals(resolveCaps(["all"], [], false).length, 41);
  assertEquals(resolveCaps([], [], true).length, 41);
  assertEquals(capNumber("CAP_SYS_ADMIN"), 21);
  assertThrows(
    () => resolveCaps(["FLY"], [], false),
    /unknown capability "FLY"/,
  );
});

Deno.test("idmap: subuid ranges by name or uid, host id translation", () => {
  const text = "alice:1:0\nalice:100000:65536\n1001:200000:1000\n";
  assertEquals(subRanges(text, "alice", 1000), [
    { start: 100000, count: 65536 },
  ]);
  assertEquals(subRanges(text, "nobody", 1001), [
    { start: 200000, count: 1000 },
  ]);
  assertEquals(subRanges(text, "carol", 5), []);
  const ranges = [{ container: 0, host: 1000, size: 1 }, {
    container: 1,
    host: 100000,
    size: 65536,
  }];
  assertEquals(toHost(ranges, 0), 1000);
  assertEquals(toHost(ranges, 1000), 100999);
  assertEquals(toHost(ranges, 70000), undefined);
});

/** The bind targets init mounts for `mounts` beside ptd's /etc files. */
function bindTargets(
  mounts: MountSpec[],
  sys = new RecordingSyscalls(),
): string[] {
  sys.dirs.add("/host/vol");
  sys.files.add("/etc/hostname");
  init(
    sys,
    spec({
      etcFiles: { "/etc/hosts": "/run/c/hosts", "/etc/hostname": "/run/c/h" },
      mounts,
    }),
  );
  return sys.trace().filter((l) => l.startsWith("mount /proc/self/fd/"))
    .map((l) => l.split(" ")[2]);
}

const etcVolume: MountSpec = {
  type: "bind",
  source: "/host/vol",
  destination: "/etc",
  readonly: false,
};

Deno.test("init: ptd's /etc files go over a volume on /etc; a user's own file wins", () => {
  const binds = bindTargets([etcVolume]);
  assert(binds.indexOf("/etc") < binds.indexOf("/etc/hosts"));
  assert(binds.includes("/etc/hostname"));
  const own = { ...etcVolume, destination: "/etc/hosts" };
  assertEquals(bindTargets([own]).filter((b) => b === "/etc/hosts").length, 1);
});

Deno.test("init: no mount point is made inside a read-only user mount", () => {
  const sys = new RecordingSyscalls();
  const binds = bindTargets([{ ...etcVolume, readonly: true }], sys);
  const vol = sys.trace().findIndex((l) =>
    l.startsWith("mount /proc/self/fd/") && l.includes(" /etc ")
  );
  assertEquals(
    sys.trace()[vol + 1],
    `mount null /etc null ${MS_BIND | MS_REMOUNT | MS_RDONLY} null`,
  );
  // /etc/hostname exists there and is bound over; /etc/hosts does not.
  assert(binds.includes("/etc/hostname"));
  assert(!binds.includes("/etc/hosts"));
});

Deno.test("init: /etc/mtab links to /proc/mounts when the image has none, before the user's mounts", () => {
  const sys = new RecordingSyscalls();
  sys.dirs.add("/etc");
  bindTargets([etcVolume], sys);
  const trace = sys.trace();
  const link = trace.indexOf("symlink /proc/mounts /etc/mtab");
  assert(link > trace.findIndex((l) => l.startsWith("pivot_root")));
  assert(link < trace.findIndex((l) => l.includes(" /etc ")));
  const own = new RecordingSyscalls();
  own.dirs.add("/etc");
  own.files.add("/etc/mtab");
  bindTargets([], own);
  assert(!own.trace().includes("symlink /proc/mounts /etc/mtab"));
});

Deno.test("idmap: every subordinate range is mapped, one after the other", () => {
  const files: Record<string, string> = {
    "/etc/passwd": "bob:x:1000:1000::/home/bob:/bin/sh\n",
    "/etc/subuid": "bob:100000:1000\nbob:300000:65536\n",
    "/etc/subgid": "bob:100000:65536\n",
  };
  const maps = idMapsFor(1000, 1000, (p) => files[p] ?? "");
  assertEquals(maps.uid, [
    { container: 0, host: 1000, size: 1 },
    { container: 1, host: 100000, size: 1000 },
    { container: 1001, host: 300000, size: 65536 },
  ]);
  // -u 60000 lands in the second range, past the first one's end.
  assertEquals(toHost(maps.uid, 60000), 300000 + 60000 - 1001);
  assertEquals(maps.gid.length, 2);
});

Deno.test("init: --ulimit is set before the user changes; EPERM is Podman's 126", () => {
  const sys = new RecordingSyscalls();
  const s = spec();
  s.process.rlimits = [[7, 1024, 2048]];
  s.process.user = "1000";
  init(sys, s);
  const t = sys.trace();
  const at = (p: string) => t.findIndex((l) => l.startsWith(p));
  assert(at("setrlimit 7 1024 2048") >= 0, t.join("\n"));
  assert(at("setrlimit") < at("setresuid"));
  const failing = new RecordingSyscalls();
  failing.failures.push((c) =>
    c.name === "setrlimit"
      ? new SysError("setrlimit", 1, "Operation not permitted")
      : undefined
  );
  const e = assertThrows(() => init(failing, s)) as PtdError;
  assertEquals(e.exitCode, 126);
  assertEquals(
    e.message,
    "error setting rlimits for ready process: error setting rlimit type 7: operation not permitted",
  );
});

Deno.test("init: /dev/shm as --shm-size and --ipc say", () => {
  const shm = (over: Partial<RuntimeSpec>) => {
    const sys = new RecordingSyscalls();
    init(sys, spec(over));
    return sys.trace().filter((l) => l.includes("/dev/shm"));
  };
  assert(shm({}).some((l) => l.includes("size=65536000")));
  assert(shm({ shmSize: 1048576 }).some((l) => l.includes("size=1048576")));
  assertEquals(shm({ ipc: "none" }), []);
  assert(!shm({ ipc: "host" }).some((l) => l.includes("tmpfs")));
  assert(
    shm({ ipc: "host" }).some((l) => l.startsWith("mount /proc/self/fd/")),
  );
});

Deno.test("user entries: numeric users, --hostuser lines, never twice", () => {
  const text = {
    passwd: "root:x:0:0:root:/root:/bin/sh\n",
    group: "root:x:0:\n",
  };
  const add = { passwd: [], group: [], numeric: true, home: "/" };
  assertEquals(withUserEntries("1234:55", text, add), {
    passwd: `${text.passwd}1234:*:1234:55:container user:/:/bin/sh\n`,
    group: "root:x:0:\n55:x:55:1234\n",
  });
  assertEquals(withUserEntries("0", text, add), {
    passwd: undefined,
    group: undefined,
  });
  assertEquals(
    withUserEntries("1234", text, { ...add, numeric: false }),
    { passwd: undefined, group: undefined },
  );
  const own = withUserEntries("1001:1001", text, {
    ...add,
    passwd: ["me:*:1001:1001::/:/bin/sh"],
    group: ["me:x:1001:me"],
  });
  assertEquals(own.passwd, `${text.passwd}me:*:1001:1001::/:/bin/sh\n`);
  assertEquals(own.group, "root:x:0:\nme:x:1001:me\n");
});

Deno.test("init -t: a pty of the container's devpts, sized, on stdio and /dev/console; its master to the parent", () => {
  const sys = new RecordingSyscalls();
  init(sys, spec({ console: { socket: 9, size: [30, 100] } }));
  const t = sys.trace();
  const from = t.indexOf("open_console 30 100");
  // After the container's own devpts is mounted and the root pivoted.
  assert(from > t.findIndex((c) => c.startsWith("mount devpts /dev/pts")));
  assert(from > t.findIndex((c) => c.startsWith("pivot_root")));
  const master = Number(/send_fd 9 (\d+)/.exec(t.join("\n"))![1]);
  const slave = master + 1;
  assertEquals(t.slice(from + 1, from + 11), [
    "touch /dev/console",
    `mount /dev/pts/0 /dev/console null ${MS_BIND} null`,
    `send_fd 9 ${master}`,
    `close ${master}`,
    "close 9",
    `dup2 ${slave} 0`,
    `dup2 ${slave} 1`,
    `dup2 ${slave} 2`,
    `close ${slave}`,
    "take_terminal 0",
  ]);
  assert(from < t.findIndex((c) => c.startsWith("execve")));
});

Deno.test("init: --cgroupns private is made before any mount and mounted on /sys/fs/cgroup; host makes none", () => {
  const sys = new RecordingSyscalls();
  init(sys, spec({ cgroupns: "private" }));
  const t = sys.trace();
  // Before the mounts: cgroup2 can be mounted only from inside it.
  assertEquals(t[0], "unshare_cgroup");
  const sysfs = t.findIndex((l) => l.startsWith("mount sysfs /sys"));
  const cg = t.indexOf(
    `mount cgroup2 /sys/fs/cgroup cgroup2 ${NSN | MS_RDONLY} null`,
  );
  assert(sysfs >= 0 && cg > sysfs, "cgroup2 is not mounted over /sys");

  const host = new RecordingSyscalls();
  init(host, spec({ cgroupns: "host" }));
  const h = host.trace();
  assert(!h.includes("unshare_cgroup"));
  assert(!h.some((l) => l.startsWith("mount cgroup2")));
});

Deno.test("init: --pid host binds the host's /proc, --uts keeps the host's name, --umask and --personality before exec", () => {
  const sys = new RecordingSyscalls();
  init(
    sys,
    spec({
      pid: "host",
      uts: "host",
      owners: [{ path: "/run/secrets/s", uid: 5, gid: 6, mode: 0o400 }],
      process: {
        ...spec().process,
        umask: 0o077,
        personality: "LINUX32",
        groups: ["keep-groups"],
      },
    }),
  );
  const t = sys.trace();
  const at = (line: string) => t.findIndex((l) => l.startsWith(line));
  assert(
    at("open_tree /proc") >= 0 && at("open_tree /proc") < at("pivot_root"),
  );
  assert(at("move_mount") > at("pivot_root"));
  assert(t.some((l) => /^move_mount \d+ \/proc$/.test(l)));
  assert(!t.some((l) => l.startsWith("mount proc /proc")));
  assert(!t.some((l) => l.startsWith("sethostname")));
  assert(at("set_owner /run/secrets/s 5 6 256") > at("umount . 2"));
  assert(t.includes("umask 63") && t.includes("personality 8"));
  assert(at("personality 8") < at("execve"));
  assert(!t.some((l) => l.startsWith("setgroups")));
  const plain = new RecordingSyscalls();
  init(plain, spec());
  assert(plain.trace().includes("umask 18"));
  assert(!plain.trace().some((l) => l.startsWith("personality")));
});

Deno.test("a pod member's joined UTS and PID namespaces: not made by clone, and init leaves the shared hostname alone", () => {
  const made = cloneFlags(spec());
  assert(made & CLONE_NEWUTS && made & CLONE_NEWPID);
  const joined = cloneFlags({
    ...spec(),
    joinUts: "/proc/9/ns/uts",
    joinPid: "/proc/9/ns/pid",
  });
  assertEquals(joined & (CLONE_NEWUTS | CLONE_NEWPID), 0);
  assertEquals(joined | CLONE_NEWUTS | CLONE_NEWPID, made);
  const sys = new RecordingSyscalls();
  init(sys, { ...spec(), joinUts: "/proc/9/ns/uts" });
  assert(!sys.trace().some((l) => l.startsWith("sethostname")));
  const own = new RecordingSyscalls();
  init(own, spec());
  assert(own.trace().includes("sethostname box"));
});
