/**
 * Joining a network namespace that exists already (`--network container:`,
 * `ns:`). A rootless caller holds no capability over it until it is inside
 * the user namespace that owns it, so the namespaces to enter are that
 * owner, then the network namespace itself.
 */
import { invalid } from "./errors.ts";
import { CLONE_NEWNET } from "../../ffi/constants.ts";
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

/**
 * Opens what to enter to join the network namespace at `path`: its owning
 * user namespace (unless that is ours: rootful, or the host's), then it.
 * The caller closes the fds.
 */
export function joinFds(path: string): JoinFds {
  const net = openNetns(path);
  let owner: number;
  try {
    owner = namespaceOwner(net);
  } catch (e) {
    closeFd(net);
    throw new Error(
      `network namespace ${path}: its owner is out of reach (${
        (e as Error).message
      })`,
    );
  }
  if (fdIdentity(owner) === identity("/proc/self/ns/user")) {
    closeFd(owner);
    return { fds: [net], user: false };
  }
  return { fds: [owner, net], user: true };
}
