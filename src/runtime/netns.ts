/**
 * Joining a network namespace that exists already (`--network container:`,
 * `ns:`). A rootless caller holds no capability over it until it is inside
 * the user namespace that owns it, so the namespaces to enter are that
 * owner, then the network namespace itself.
 */
import { invalid } from "./errors.ts";
import {
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWPID,
  CLONE_NEWUTS,
} from "../../ffi/constants.ts";
import {
  closeFd,
  namespaceOwner,
  namespaceType,
  openRaw,
} from "../../ffi/fd.ts";

/** Namespace fds to setns() into, in order, and whether a user ns is one. */
export interface JoinFds {
  fds: number[];
  /** The owner is another user namespace: the container lives in it. */
  user: boolean;
}

/** A namespace's identity: device and inode of its nsfs file. */
function identity(path: string): string {
  const st = Deno.statSync(path);
  return `${st.dev}:${st.ino}`;
}

const fdIdentity = (fd: number) => identity(`/proc/self/fd/${fd}`);

function openNetns(path: string): number {
  let fd: number;
  try {
    fd = openRaw(path);
  } catch {
    throw invalid(`network namespace ${path}: cannot be opened`);
  }
  if (namespaceType(fd) !== CLONE_NEWNET) {
    closeFd(fd);
    throw invalid(`${path} is not a network namespace`);
  }
  return fd;
}

/** Which network namespace `path` is ("dev:ino"); throws when it is none. */
export function netnsId(path: string): string {
  const fd = openNetns(path);
  try {
    return fdIdentity(fd);
  } finally {
    closeFd(fd);
  }
}

/** Whether `path` is the network namespace ptd itself runs in. */
export function isOwnNetns(path: string): boolean {
  return netnsId(path) === identity("/proc/self/ns/net");
}

/** Namespaces a container may join besides the network's. */
const KINDS = {
  ipc: [CLONE_NEWIPC, "IPC"],
  uts: [CLONE_NEWUTS, "UTS"],
  pid: [CLONE_NEWPID, "PID"],
} as const;

/** Opens the namespace of `kind` at `path` (--ipc/--uts/--pid container:). */
function openNs(path: string, kind: keyof typeof KINDS): number {
  const [type, label] = KINDS[kind];
  let fd: number;
  try {
    fd = openRaw(path);
  } catch {
    throw invalid(`${label} namespace ${path}: cannot be opened`);
  }
  if (namespaceType(fd) !== type) {
    closeFd(fd);
    throw invalid(
      `${path} is not a${kind === "ipc" ? "n" : ""} ${label} namespace`,
    );
  }
  return fd;
}

/**
 * Opens what to enter to join the network namespace at `net` and the
 * others `more` names (any may be absent): the user namespace owning the
 * first (unless that is ours: rootful, or the host's), then them, the PID
 * namespace last (it only counts for children). The caller closes the fds.
 */
export function joinFds(
  net?: string,
  ipc?: string,
  more: { uts?: string; pid?: string } = {},
): JoinFds {
  const fds: number[] = [];
  const others = { ipc, ...more };
  try {
    if (net !== undefined) fds.push(openNetns(net));
    for (const kind of ["ipc", "uts", "pid"] as const) {
      const path = others[kind];
      if (path !== undefined) fds.push(openNs(path, kind));
    }
  } catch (e) {
    fds.forEach(closeFd);
    throw e;
  }
  let owner: number;
  try {
    owner = namespaceOwner(fds[0]);
  } catch (e) {
    fds.forEach(closeFd);
    throw new Error(
      `namespace ${
        net ?? ipc ?? more.uts ?? more.pid
      }: its owner is out of reach (${(e as Error).message})`,
    );
  }
  if (fdIdentity(owner) === identity("/proc/self/ns/user")) {
    closeFd(owner);
    return { fds, user: false };
  }
  return { fds: [owner, ...fds], user: true };
}
