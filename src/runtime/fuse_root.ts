/**
 * The fuse-overlayfs daemon behind a rootless container's root where the
 * kernel refuses a native overlay (--rootfs /: see rootfs.ts, where init
 * mounts it). Its parent starts it in the container's user namespace, so
 * the files it writes belong to the container's ids, but in the parent's
 * own PID and mount namespaces: the container can neither see nor signal
 * it, nor reach its /proc/PID/root (a tree of the host), and its lookups
 * never pass through the mount it serves. It ends when the container's
 * mount namespace goes (the kernel aborts its FUSE connection then, so
 * even a parent killed with SIGKILL leaves none behind), and its parent
 * stops it once the container has exited.
 */
import { SIGKILL } from "../../ffi/constants.ts";
import { waitStatus } from "../../ffi/clone.ts";
import { closeFd, setInheritable } from "../../ffi/fd.ts";
import { libc } from "../../ffi/libc.ts";
import { overlayData } from "./rootfs.ts";
import type { OverlayRootfs } from "./spec.ts";
import { which } from "./tools.ts";
import { startInUserNamespaceOf } from "./userns.ts";

/** A running daemon; `stop()` ends and reaps it. */
export interface FuseDaemon {
  stop(): Promise<void>;
}

// libfuse takes a mount point of /dev/fd/N as a connection mounted
// already; the shell only points the daemon's chatter at /dev/null.
const SCRIPT = 'exec "$0" -f -o "$1" "$2" </dev/null >/dev/null 2>&1';

/**
 * Starts the daemon on `fd`, the /dev/fuse descriptor init of the container
 * `pid` mounted its root with (and closes it here); undefined when it
 * cannot: the connection, unserved, is then aborted, and init fails to
 * enter its root and says so.
 */
export async function serveFuseRoot(
  fd: number,
  pid: number,
  rootfs: OverlayRootfs,
): Promise<FuseDaemon | undefined> {
  let daemon: number;
  try {
    setInheritable(fd);
    daemon = await startInUserNamespaceOf(pid, "/bin/sh", [
      "sh",
      "-c",
      SCRIPT,
      which("fuse-overlayfs") ?? "fuse-overlayfs",
      overlayData(rootfs, false),
      `/dev/fd/${fd}`,
    ]);
  } catch {
    return undefined;
  } finally {
    closeFd(fd);
  }
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        libc().kill(daemon, SIGKILL);
        await waitStatus(daemon);
      })();
      return stopped;
    },
  };
}
