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

/** The kinds of namespace besides the network one that a container may join. */
const OTHERS = { ipc: CLONE_NEWIPC, uts: CLONE_NEWUTS, pid: CLONE_NEWPID };

/** Namespace files to join besides the network one (--ipc container:, a pod's). */
export type OtherJoins = Partial<Record<keyof typeof OTHERS, string>>;

/** Opens the namespace of kind `kind` at `path`. */
function openNs(path: string, kind: keyof typeof OTHERS): number {
  let fd: number;
  const what = `${kind.toUpperCase()} namespace`;
  try {
    fd = openRaw(path);
  } catch {
    throw invalid(`${what} ${path}: cannot be opened`);
  }
  if (namespaceType(fd) !== OTHERS[kind]) {
    closeFd(fd);
    throw invalid(`${path} is not ${kind === "ipc" ? "an" : "a"} ${what}`);
  }
  return fd;
}

/**
 * Opens what to enter to join the network namespace at `net` and the
 * `others` (any may be absent): the user namespace owning them (unless
 * that is ours: rootful, or the host's), then them, the PID namespace
 * last (it acts on the children made after it). The caller closes the fds.
 */
export function joinFds(net?: string, others: OtherJoins = {}): JoinFds {
  const fds: number[] = [];
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
        net ?? Object.values(others)[0]
      }: its owner is out of reach (${(e as Error).message})`,
    );
  }
  if (fdIdentity(owner) === identity("/proc/self/ns/user")) {
    closeFd(owner);
    return { fds, user: false };
  }
  return { fds: [owner, ...fds], user: true };
}
