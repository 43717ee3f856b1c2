/**
 * The mount sequence of `ptd init`, over the Syscalls interface so it can be
 * unit-tested with the recording fake.
 *
 * Order matters. Host paths (bind sources) are opened as O_PATH fds first;
 * then the root pivots with pivot_root(".", "."), so every later target is
 * resolved by the kernel inside the container's root (an image's symlink
 * cannot point a mount at the host); /proc and /sys are mounted while the old
 * root is still attached, because the kernel only allows a new proc or sysfs
 * in a user namespace when one is already fully visible; the old root is
 * detached last.
 */
import type { Syscalls } from "../../ffi/syscalls.ts";
import {
  MNT_DETACH,
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_STRICTATIME,
} from "../../ffi/constants.ts";
import { SysError } from "../../ffi/errno.ts";
import { PtdError } from "./errors.ts";
import {
  type CopyRootfs,
  DEFAULT_SHM_SIZE,
  DEVICES,
  type MountSpec,
  type OverlayRootfs,
  type RuntimeSpec,
} from "./spec.ts";
import { containerMasks } from "./masks.ts";
import { requireTool } from "./tools.ts";

const DEV_LINKS: [string, string][] = [
  ["/proc/self/fd", "/dev/fd"],
  ["/proc/self/fd/0", "/dev/stdin"],
  ["/proc/self/fd/1", "/dev/stdout"],
  ["/proc/self/fd/2", "/dev/stderr"],
  ["pts/ptmx", "/dev/ptmx"],
  ["/proc/kcore", "/dev/core"],
];

/** Docker's masked paths: hidden behind /dev/null or an empty read-only tmpfs. */
export const MASKED_PATHS = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

/** Docker's read-only /proc paths. */
export const READONLY_PATHS = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

const NSN = MS_NOSUID | MS_NODEV | MS_NOEXEC;

function escapeOverlay(path: string): string {
  return path.replace(/([\\,:])/g, "\\$1");
}

/** The overlay mount data for a rootfs. */
export function overlayData(r: OverlayRootfs, rootless: boolean): string {
  const lower = r.lower.map(escapeOverlay).join(":");
  const opts = [
    `lowerdir=${lower}`,
    `upperdir=${escapeOverlay(r.upper)}`,
    `workdir=${escapeOverlay(r.work)}`,
  ];
  if (rootless) opts.push("userxattr");
  return opts.join(",");
}

const fdPath = (fd: number) => `/proc/self/fd/${fd}`;

/**
 * Mounts the overlay root. Native overlay first; in a user namespace the
 * kernel refuses a lower dir with locked submounts (EINVAL: "failed to clone
 * lowerpath", e.g. --rootfs /), and then fuse-overlayfs, which reads the
 * lower tree as a plain process, does the job.
 *
 * The FUSE mount is made here, on a /dev/fuse descriptor init opens, and
 * the descriptor goes to the parent (`fuseSocket`), which starts the daemon
 * outside the container's PID and mount namespaces (fuse_root.ts): a daemon
 * init started would be a process of the container, whose /proc/PID/root (a
 * tree of the host) the container could reach. The options are those
 * fuse-overlayfs mounts with.
 */
function mountOverlay(
  sys: Syscalls,
  r: OverlayRootfs,
  spec: RuntimeSpec,
): string {
  try {
    sys.mount("overlay", r.merged, "overlay", 0, overlayData(r, spec.rootless));
    return r.merged;
  } catch (e) {
    const refused = e instanceof SysError && e.code === "EINVAL";
    if (!spec.rootless || !refused || spec.fuseSocket === undefined) throw e;
  }
  // Said here, before a root no daemon would serve.
  requireTool("fuse-overlayfs", "fuse-overlayfs");
  const fd = sys.openFuse();
  sys.mount(
    "fuse-overlayfs",
    r.merged,
    "fuse.fuse-overlayfs",
    MS_NODEV | MS_NOATIME,
    `fd=${fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other`,
  );
  sys.sendFd(spec.fuseSocket, fd);
  sys.close(fd);
  return r.merged;
}

/** Binds a vfs copy on its mount point: pivot_root wants a mount there. */
function bindCopy(sys: Syscalls, r: CopyRootfs): string {
  sys.mount(r.copy, r.merged, null, MS_BIND | MS_REC);
  return r.merged;
}

/** Makes a bind target of the right kind (dir or file) inside the new root. */
function ensureTarget(sys: Syscalls, target: string, dir: boolean) {
  if (dir) {
    sys.mkdirAll(target, 0o755);
    return;
  }
  const parent = target.slice(0, target.lastIndexOf("/")) || "/";
  sys.mkdirAll(parent, 0o755);
  sys.ensureFile(target);
}

function bindFd(
  sys: Syscalls,
  fd: number,
  target: string,
  readonly: boolean,
  extra = 0,
) {
  sys.mount(fdPath(fd), target, null, MS_BIND | MS_REC);
  if (readonly) {
    sys.mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY | extra);
  }
}

/**
 * /dev/shm and /dev/mqueue as --ipc says; `hostIpc` holds the host's for
 * host. A joined IPC namespace shares SysV IPC and message queues, not
 * /dev/shm: the kernel binds no mount of another mount namespace.
 */
function mountIpc(sys: Syscalls, spec: RuntimeSpec, hostIpc: number[]) {
  if (spec.ipc === "none") return;
  sys.mkdirAll("/dev/shm", 0o1777);
  sys.mkdirAll("/dev/mqueue", 0o755);
  if (spec.ipc === "host") {
    bindFd(sys, hostIpc[0], "/dev/shm", false);
    bindFd(sys, hostIpc[1], "/dev/mqueue", false);
    return;
  }
  const size = spec.shmSize ?? DEFAULT_SHM_SIZE;
  sys.mount("shm", "/dev/shm", "tmpfs", NSN, `mode=1777,size=${size}`);
  sys.mount("mqueue", "/dev/mqueue", "mqueue", NSN);
}

/** What mountIpc binds, opened while the host's tree is still in view. */
function ipcSources(sys: Syscalls, spec: RuntimeSpec): number[] {
  if (spec.ipc !== "host") return [];
  return ["/dev/shm", "/dev/mqueue"].map((p) => sys.openPath(p));
}

function mountDev(sys: Syscalls, spec: RuntimeSpec, devFds: number[]) {
  sys.mkdirAll("/dev", 0o755);
  sys.mount(
    "tmpfs",
    "/dev",
    "tmpfs",
    MS_NOSUID | MS_STRICTATIME,
    "mode=755,size=65536k",
  );
  DEVICES.forEach((d, i) => {
    sys.ensureFile(`/dev/${d}`);
    sys.mount(fdPath(devFds[i]), `/dev/${d}`, null, MS_BIND);
  });
  for (const [target, link] of DEV_LINKS) sys.symlink(target, link);
  sys.mkdirAll("/dev/pts", 0o755);
  // gid=5 (tty) is only valid when gid 5 is mapped; a single mapping has only 0.
  const ptsData = "newinstance,ptmxmode=0666,mode=0620" +
    (spec.rootless ? "" : ",gid=5");
  sys.mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, ptsData);
}

function mountSys(sys: Syscalls, spec: RuntimeSpec, sysFd: number) {
  sys.mkdirAll("/sys", 0o755);
  if (spec.privateNetwork) {
    // Privileged: writable where the kernel lets the user namespace write.
    sys.mount(
      "sysfs",
      "/sys",
      "sysfs",
      NSN | (spec.privileged ? 0 : MS_RDONLY),
    );
  } else {
    // Without a network namespace of our own the kernel refuses a new
    // sysfs: show the host's, read-only.
    bindFd(sys, sysFd, "/sys", true, NSN);
  }
  // The container's own cgroup as the root of the hierarchy, as Podman
  // mounts it with a private cgroup namespace.
  if (spec.cgroupns === "private") {
    sys.mount(
      "cgroup2",
      "/sys/fs/cgroup",
      "cgroup2",
      NSN | (spec.privileged ? 0 : MS_RDONLY),
    );
  }
}

/**
 * --sysctl: each knob under /proc/sys (dots are directories), set while
 * /proc/sys is still writable; one the kernel does not have fails the start
 * as runc's does (127, "no such file or directory").
 */
function setSysctls(sys: Syscalls, sysctls: Record<string, string>) {
  for (const [key, value] of Object.entries(sysctls)) {
    const path = `/proc/sys/${key.replaceAll(".", "/")}`;
    try {
      sys.writeFile(path, value);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new PtdError(
        "command-not-found",
        `open ${path}: no such file or directory`,
      );
    }
  }
}

function maskPaths(sys: Syscalls, spec: RuntimeSpec) {
  const paths = containerMasks(
    { masked: MASKED_PATHS, readonly: READONLY_PATHS },
    spec,
  );
  for (const p of paths.masked) {
    if (!sys.exists(p)) continue;
    if (sys.isDirectory(p)) {
      sys.mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k");
    } else {
      sys.mount("/dev/null", p, null, MS_BIND);
    }
  }
  for (const p of paths.readonly) {
    if (!sys.exists(p)) continue;
    sys.mount(p, p, null, MS_BIND | MS_REC);
    sys.mount(null, p, null, MS_BIND | MS_REMOUNT | MS_RDONLY | NSN);
  }
}

/** The mount data of an image's overlay (--mount type=image). */
function imageOverlayData(m: MountSpec, rootless: boolean): string {
  if (m.upper !== undefined && m.work !== undefined) {
    const r = { lower: m.lower!, upper: m.upper, work: m.work, merged: "" };
    return overlayData(r, rootless);
  }
  const opts = [`lowerdir=${m.lower!.map(escapeOverlay).join(":")}`];
  if (rootless) opts.push("userxattr");
  return opts.join(",");
}

function mountUser(sys: Syscalls, m: MountSpec, fd: number | undefined) {
  if (m.type === "devpts") {
    sys.mkdirAll(m.destination, 0o755);
    const data = ["newinstance", ...(m.data ? [m.data] : [])].join(",");
    sys.mount("devpts", m.destination, "devpts", 0, data);
    return;
  }
  if (m.type === "tmpfs") {
    sys.mkdirAll(m.destination, 0o755);
    const flags = MS_NOSUID | MS_NODEV | (m.readonly ? MS_RDONLY : 0);
    sys.mount("tmpfs", m.destination, "tmpfs", flags, m.data ?? null);
    return;
  }
  ensureTarget(sys, m.destination, sys.isDirectory(fdPath(fd!)));
  bindFd(sys, fd!, m.destination, m.readonly);
}

/**
 * Builds the container's root and leaves the process in it, at "/".
 * Runs inside the new mount namespace, as root of the user namespace.
 */
export function buildRootfs(sys: Syscalls, spec: RuntimeSpec): void {
  sys.mount(null, "/", null, MS_REC | MS_PRIVATE);
  const r = spec.rootfs;
  const newRoot = "copy" in r ? bindCopy(sys, r) : mountOverlay(sys, r, spec);
  // Closed either way: EOF tells the parent that no daemon is wanted.
  if (spec.fuseSocket !== undefined) sys.close(spec.fuseSocket);

  const devFds = DEVICES.map((d) => sys.openPath(`/dev/${d}`));
  const sysFd = sys.openPath("/sys");
  const hostProc = spec.pid === "host" ? sys.cloneTree("/proc") : undefined;
  const hostIpc = ipcSources(sys, spec);
  const etc = Object.entries(spec.etcFiles).map(([dst, src]) =>
    [dst, sys.openPath(src)] as const
  );
  // An image's overlay takes host paths: mounted here, bound after.
  for (const m of spec.mounts) {
    if (m.type !== "overlay") continue;
    const flags = m.readonly ? MS_RDONLY : 0;
    sys.mount(
      "overlay",
      m.source,
      "overlay",
      flags,
      imageOverlayData(m, spec.rootless),
    );
  }
  const userFds = spec.mounts.map((m) =>
    m.type === "bind" || m.type === "overlay"
      ? sys.openPath(m.source)
      : undefined
  );

  sys.chdir(newRoot);
  sys.pivotRoot(".", ".");
  // As Podman: `mount` inside reads /etc/mtab, which few images ship. In
  // the root itself, under what the user mounts on /etc.
  if (sys.exists("/etc") && !sys.exists("/etc/mtab")) {
    sys.symlink("/proc/mounts", "/etc/mtab");
  }

  sys.mkdirAll("/proc", 0o555);
  if (hostProc === undefined) sys.mount("proc", "/proc", "proc", NSN);
  else sys.attachTree(hostProc, "/proc");
  setSysctls(sys, spec.sysctls ?? {});
  mountDev(sys, spec, devFds);
  mountIpc(sys, spec, hostIpc);
  mountSys(sys, spec, sysFd);
  spec.mounts.forEach((m, i) => mountUser(sys, m, userFds[i]));
  // After the user's mounts, so a volume on /etc does not hide them; a file
  // the user mounted on one of these paths wins, as in Docker.
  const userDsts = new Set(spec.mounts.map((m) => m.destination));
  const readonlyOver = (p: string) =>
    spec.mounts.some((m) => m.readonly && p.startsWith(`${m.destination}/`));
  for (const [dst, fd] of etc) {
    if (userDsts.has(dst)) continue;
    // No mount point can be made in a read-only mount (-v vol:/etc:ro).
    if (readonlyOver(dst) && !sys.exists(dst)) continue;
    ensureTarget(sys, dst, false);
    bindFd(sys, fd, dst, false);
  }
  maskPaths(sys, spec);

  sys.umount(".", MNT_DETACH);
  // Each host path opened above is a way out of the root while it is open
  // (a working directory of /proc/self/fd/N: runc's CVE-2024-21626).
  const opened = [
    ...devFds,
    sysFd,
    ...hostIpc,
    ...etc.map(([, fd]) => fd),
    hostProc,
  ];
  for (const fd of [...opened, ...userFds]) if (fd !== undefined) sys.close(fd);
  sys.chdir("/");
  if (spec.readonlyRootfs) {
    sys.mount(null, "/", null, MS_BIND | MS_REMOUNT | MS_RDONLY);
  }
}
