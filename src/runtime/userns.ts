/**
 * Running a ptd helper inside a fresh user namespace with the user's maps,
 * as its root: the only way a rootless user can chown to, or delete files
 * owned by, its subordinate ids (layer unpacking, removing container dirs).
 */
import { CLONE_NEWUSER } from "../../ffi/constants.ts";
import { cloneExec, environ, exitCode, waitStatus } from "../../ffi/clone.ts";
import { closeFd, openRaw } from "../../ffi/fd.ts";
import { userMaps } from "./create.ts";
import { writeIdMaps } from "./idmap.ts";
import { selfCommand } from "./self.ts";

/**
 * Runs `ptd ARGS...` as root of a new user namespace (and of the other new
 * namespaces `flags` asks for, e.g. a mount namespace of its own); returns
 * its exit code.
 */
export async function runInUserNamespace(
  args: string[],
  flags = 0,
): Promise<number> {
  const self = selfCommand();
  const child = await cloneExec({
    flags: CLONE_NEWUSER | flags,
    path: self.path,
    argv: [self.path, ...self.args, ...args],
    env: environ(),
  });
  try {
    await writeIdMaps(child.pid, userMaps());
  } catch (e) {
    child.abort();
    await waitStatus(child.pid);
    throw e;
  }
  child.release();
  return exitCode(await waitStatus(child.pid));
}

/**
 * Starts `argv` (its program at `path`) in the user namespace of the
 * running process `pid`, as its root, and in the caller's other namespaces:
 * the caller's child, running once this resolves. Descriptors meant for
 * it may be closed right after.
 */
export async function startInUserNamespaceOf(
  pid: number,
  path: string,
  argv: string[],
): Promise<number> {
  const user = openRaw(`/proc/${pid}/ns/user`);
  let child;
  try {
    child = await cloneExec({
      flags: 0,
      path,
      argv,
      env: environ(),
      join: [user],
    });
  } finally {
    closeFd(user);
  }
  child.release();
  return child.pid;
}

/**
 * Runs `ptd ARGS...` in the user namespace of the running process `pid`
 * (a container's), as its root: the one place its files, owners and FUSE
 * mounts are reachable as the container itself sees them. The child is
 * cloned before this returns its promise (descriptors meant for it may
 * be closed right after the call).
 */
export async function runInUserNamespaceOf(
  pid: number,
  args: string[],
): Promise<number> {
  const self = selfCommand();
  const child = await startInUserNamespaceOf(pid, self.path, [
    self.path,
    ...self.args,
    ...args,
  ]);
  return exitCode(await waitStatus(child));
}
