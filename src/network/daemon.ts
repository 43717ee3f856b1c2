/**
 * `ptd network-daemon DIR [USERNS]`: the holder (holder.ts) lives in a
 * user namespace of its own, so something in the host's namespaces must
 * clone it, write its maps and give it slirp4netns (the way out for the
 * DNS server's forwarded questions). This daemon, started detached by
 * holder_client.ts, is its parent for life. The holder dies with it
 * (parent-death signal), and slirp4netns with it (--exit-fd), so a kill -9
 * of either leaves only a socket file, which the next start replaces.
 */
import { cloneExec, environ, exitCode, waitStatus } from "../../ffi/clone.ts";
import { CLONE_NEWNET, CLONE_NEWUSER } from "../../ffi/constants.ts";
import {
  closeFd,
  dupOnto,
  isInherited,
  newSession,
  openRaw,
} from "../../ffi/fd.ts";
import { userMaps } from "../runtime/create.ts";
import { writeIdMaps } from "../runtime/idmap.ts";
import { selfCommand } from "../runtime/self.ts";
import { HOLDER_COMMAND, MEMBERS_FILE, startTime } from "./holder.ts";
import { LOG, SOCKET } from "./holder_client.ts";
import { startSlirp, stopSlirp } from "./slirp.ts";

/**
 * The user namespace of a container a killed holder left running (its
 * members file, in the working directory), opened; undefined if none.
 * A new holder joins it, so old and new containers share one again.
 */
function survivorUserns(): number | undefined {
  let list: { pid: number; start?: string }[] = [];
  try {
    list = JSON.parse(Deno.readTextFileSync(MEMBERS_FILE));
  } catch { /* none: the first holder, or the last one ended idle */ }
  for (const { pid, start } of list) {
    if (start === undefined || startTime(pid) !== start) continue;
    try {
      return openRaw(`/proc/${pid}/ns/user`);
    } catch { /* gone meanwhile */ }
  }
}

/**
 * Entry of `ptd network-daemon DIR [USERNS]`: starts the holder in new
 * user and network namespaces (or, given USERNS or left by a killed
 * holder's members, in a new network namespace of that user namespace)
 * with slirp4netns, and lives as long as it does.
 */
export async function daemonMain(args: string[]): Promise<number> {
  const [dir, userns] = args;
  newSession();
  // The starter's descriptors (a container's output pipes, whose EOF its
  // monitor waits for) must not live on in us and the holder.
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(e.name);
    if (fd > 2 && isInherited(fd)) closeFd(fd);
  }
  Deno.chdir(dir);
  // What the holder and `ip` say goes to the log, for the starter's error.
  Deno.writeTextFileSync(`${dir}/${LOG}`, "", { mode: 0o600 });
  dupOnto(openRaw(`${dir}/${LOG}`, "readwrite"), 2);
  const self = selfCommand();
  // The user namespace to join is held open until the child is in it.
  const join = userns ? openRaw(userns) : survivorUserns();
  let child;
  try {
    child = await cloneExec({
      flags: join === undefined ? CLONE_NEWUSER | CLONE_NEWNET : CLONE_NEWNET,
      path: self.path,
      argv: [self.path, ...self.args, HOLDER_COMMAND, `${dir}/${SOCKET}`],
      env: environ(),
      join: join === undefined ? undefined : [join],
    });
  } finally {
    if (join !== undefined) closeFd(join);
  }
  let slirp;
  try {
    if (join === undefined) await writeIdMaps(child.pid, userMaps());
    slirp = await startSlirp(
      child.pid,
      { kind: "slirp4netns", allowHostLoopback: false, mtu: 0 },
      [],
      dir,
    );
  } catch (e) {
    child.abort();
    await waitStatus(child.pid);
    console.error(`network daemon: ${(e as Error).message}`);
    return 1;
  }
  child.release();
  // The holder answers the starter; our copy of its pipe must not hold it.
  dupOnto(0, 1);
  const code = exitCode(await waitStatus(child.pid));
  await stopSlirp(slirp, dir);
  return code;
}
