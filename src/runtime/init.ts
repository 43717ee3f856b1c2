/**
 * `ptd init`: the first program in the container's namespaces, as root of its
 * user namespace. It builds the root file system, sets hostname, loopback,
 * working directory and credentials, then execs the container's command and
 * becomes it. Every module it needs is imported statically, so nothing is
 * loaded from the host after pivot_root.
 */
import { closeFd, dupOnto, setCloexec } from "../../ffi/fd.ts";
import { MS_BIND } from "../../ffi/constants.ts";
import { libc } from "../../ffi/libc.ts";
import { RealSyscalls, type Syscalls } from "../../ffi/syscalls.ts";
import { buildRootfs } from "./rootfs.ts";
import {
  containerEnv,
  execProcess,
  type PathProbe,
  realProbe,
} from "./process.ts";
import { asPtdError, PtdError } from "./errors.ts";
import type { RuntimeSpec } from "./spec.ts";
import { resolveUser, withUserEntries } from "./user.ts";
import { trace } from "./trace.ts";

/** Reads a file of the container, "" when it is missing. */
export type FileReader = (path: string) => string;

const readOrEmpty: FileReader = (path) => {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
};

/** Writes a file of the container. */
export type FileWriter = (path: string, text: string) => void;

const writeFile: FileWriter = (path, text) =>
  Deno.writeTextFileSync(path, text);

/**
 * The user and group entries Podman adds, written into the container's
 * files; a read-only root keeps its files as they are.
 */
function addUserEntries(
  proc: RuntimeSpec["process"],
  read: FileReader,
  write: FileWriter,
) {
  const numeric = !!proc.passwd && /^\d/.test(proc.user);
  if (!numeric && !proc.passwdEntries?.length && !proc.groupEntries?.length) {
    return;
  }
  const changed = withUserEntries(
    proc.user,
    { passwd: read("/etc/passwd"), group: read("/etc/group") },
    {
      passwd: proc.passwdEntries ?? [],
      group: proc.groupEntries ?? [],
      numeric: !!proc.passwd,
      home: proc.cwd,
      entry: proc.passwdEntry,
    },
  );
  for (const [name, text] of Object.entries(changed)) {
    if (text === undefined) continue;
    try {
      write(`/etc/${name}`, text);
    } catch { /* read-only: the numeric ids work without an entry */ }
  }
}

/**
 * -t: the command's terminal, a pty of the container's own devpts (so its
 * name is a /dev/pts path there, and /dev/console, as under Podman), sized
 * before the command starts; the master goes to the parent, which relays it.
 */
function setUpConsole(sys: Syscalls, c: NonNullable<RuntimeSpec["console"]>) {
  const pty = sys.openConsole(c.size);
  sys.ensureFile("/dev/console");
  sys.mount(pty.path, "/dev/console", null, MS_BIND);
  sys.sendFd(c.socket, pty.master);
  sys.close(pty.master);
  sys.close(c.socket);
  for (const fd of [0, 1, 2]) sys.dupTo(pty.slave, fd);
  sys.close(pty.slave);
  sys.takeTerminal(0);
}

/**
 * Refuses, in Podman's words and with its 126, a user or group the
 * namespace does not map (setresuid would fail with EINVAL). Where the
 * maps cannot be read (a fake reader) there is nothing to check.
 */
function checkMapped(user: { uid: number; gid: number }, read: FileReader) {
  const hex = (n: number) => `0x${n.toString(16)}`;
  for (const [kind, id] of [["UID", user.uid], ["GID", user.gid]] as const) {
    const text = read(`/proc/self/${kind.toLowerCase()}_map`).trim();
    if (text === "") continue;
    const ranges = text.split("\n").map((l) =>
      l.trim().split(/\s+/).map(Number)
    );
    if (ranges.some(([c, , n]) => id >= c && id < c + n)) continue;
    const shown = ranges.map(([c, h, n]) =>
      `specs.LinuxIDMapping{ContainerID:${hex(c)}, HostID:${hex(h)}, Size:${
        hex(n)
      }}`
    );
    throw new PtdError(
      "cannot-invoke",
      `container uses ID mappings ([]specs.LinuxIDMapping{${
        shown.join(", ")
      }}), but doesn't map ${kind} ${id}`,
    );
  }
}

/** The whole init sequence; returns only by throwing (execve replaces us). */
export function runInit(
  sys: Syscalls,
  spec: RuntimeSpec,
  probe: PathProbe,
  read: FileReader,
  lastCap: number,
  write: FileWriter = writeFile,
): never {
  if (spec.cgroupns === "private") sys.unshareCgroup();
  buildRootfs(sys, spec);
  for (const o of spec.owners ?? []) sys.setOwner(o.path, o.uid, o.gid, o.mode);
  trace("init-mounted");
  if (spec.console) setUpConsole(sys, spec.console);
  // A UTS namespace of the host or of another container keeps its name.
  if (!spec.uts && !spec.joinUts) sys.sethostname(spec.hostname);
  if (spec.privateNetwork) sys.linkUp("lo");
  const proc = spec.process;
  addUserEntries(proc, read, write);
  const user = resolveUser(
    proc.user,
    read("/etc/passwd"),
    read("/etc/group"),
    proc.groups,
    true,
  );
  checkMapped(user, read);
  const env = containerEnv(proc.env, user, spec.hostname);
  sys.mkdirAll(proc.cwd, 0o755);
  sys.chdir(proc.cwd);
  // A working directory reached through a descriptor of the host (a
  // /proc/self/fd/N link) lies outside the root: runc's CVE-2024-21626.
  if (!sys.getcwd().startsWith("/")) {
    throw new PtdError(
      "cannot-invoke",
      "current working directory is outside of container mount namespace root -- possible container breakout detected",
    );
  }
  if (spec.networkGate !== undefined) awaitNetwork(spec.networkGate);
  trace("init-exec");
  return execProcess(sys, proc, user, env, probe, spec.dieWithParent, lastCap);
}

/** Blocks until the parent says the network is up (spec.networkGate). */
function awaitNetwork(fd: number) {
  if (Number(libc().read(fd, new Uint8Array(1), 1n)) !== 1) {
    throw new PtdError("internal", "the container's network was not set up");
  }
  closeFd(fd);
}

/**
 * Takes over the descriptors the parent passed: stdio onto 0/1/2, and the
 * error pipe and the sockets close-on-exec, so that the command never holds
 * the monitor's ends open.
 */
function adoptDescriptors(spec: RuntimeSpec) {
  if (spec.errorFd !== undefined) setCloexec(spec.errorFd);
  if (spec.console) setCloexec(spec.console.socket);
  if (spec.fuseSocket !== undefined) setCloexec(spec.fuseSocket);
  if (spec.networkGate !== undefined) setCloexec(spec.networkGate);
  const fds = spec.stdio ?? [];
  fds.forEach((fd, target) => {
    if (fd !== target) dupOnto(fd, target);
  });
  // One descriptor may stand for several: close each original once.
  for (const fd of new Set(fds)) if (fd > 2) closeFd(fd);
}

/**
 * Tells why the container did not start: on the error fd as the JSON of
 * `toData()` (the monitor reads it with errorFromJson), else on stderr.
 */
function reportFailure(errorFd: number | undefined, err: PtdError) {
  if (errorFd === undefined) {
    console.error(`Error: ${err.message}`);
    return;
  }
  const line = new TextEncoder().encode(JSON.stringify(err.toData()));
  libc().write(errorFd, line, BigInt(line.length));
}

/** Entry point of the hidden `init` subcommand: `ptd init SPEC.json`. */
export function initMain(args: string[]): never {
  let errorFd: number | undefined;
  try {
    const spec = JSON.parse(Deno.readTextFileSync(args[0])) as RuntimeSpec;
    errorFd = spec.errorFd;
    adoptDescriptors(spec);
    const lastCap = Number(
      Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim(),
    );
    return runInit(new RealSyscalls(), spec, realProbe, readOrEmpty, lastCap);
  } catch (e) {
    const err = asPtdError(e);
    reportFailure(errorFd, err);
    Deno.exit(err.exitCode);
  }
}
