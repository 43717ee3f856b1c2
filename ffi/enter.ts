/**
 * Entering a running container: clone() a child that runs the native exec
 * routine (exec_routine.ts), which setns()es into the container's namespaces
 * and starts the command as a sibling the caller waits for. No JavaScript
 * ever runs in the child, and nothing of ptd runs in the container.
 */
import { Arena, routinePage } from "./arena.ts";
import { SIGCHLD } from "./constants.ts";
import { execRoutine } from "./exec_routine.ts";
import { closeFd, pipeFromChild } from "./fd.ts";
import { check, libc } from "./libc.ts";

/** What to run in the container, and as whom. */
export interface EnterRequest {
  /** Namespace fds in setns order: user, mnt, the rest, pid last. */
  nsFds: number[];
  /** Where the command may be: tried in order, like execvp. */
  paths: string[];
  argv: string[];
  env: string[];
  cwd: string;
  /** Supplementary groups; null leaves them (setgroups is denied). */
  groups: number[] | null;
  uid: number;
  gid: number;
  /** Capability numbers the process keeps in its bounding set. */
  caps: number[];
  /**
   * Capability numbers a user other than root keeps in its effective,
   * permitted, inheritable and ambient sets (--cap-add).
   */
  ambient?: number[];
  lastCap: number;
  noNewPrivs: boolean;
  /** Descriptors for the command's 0, 1 and 2. */
  stdio: [number, number, number];
  /** A directory fd of the container's root, or -1. */
  rootFd: number;
  /** stdin is a terminal: give the command a session with it as its own. */
  tty: boolean;
  /**
   * The container's seccomp program: 4 bytes of seccomp(2) flags, then the
   * sock_filter entries; absent, no filter.
   */
  seccomp?: Uint8Array;
  /** --preserve-fds: descriptors 3..3+N-1 stay open in the command. */
  preserveFds?: number;
}

/** The started command, or the exit code that says why it did not start. */
export type EnterResult = { pid: number } | { failure: number };

/** Starts `req` inside the container whose namespaces `req.nsFds` are. */
export async function enterExec(req: EnterRequest): Promise<EnterResult> {
  const pidPipe = pipeFromChild(true), errPipe = pipeFromChild(true);
  const mem = new Arena({
    slots: 23,
    strings: [...req.paths, ...req.argv, ...req.env, req.cwd],
    lists: [req.paths.length, req.argv.length, req.env.length],
    ints: [req.nsFds.length, req.groups?.length ?? 0],
    filter: req.seccomp?.length,
  });
  let keep = 0n;
  for (const c of req.caps) keep |= 1n << BigInt(c);
  mem.slot(0, mem.ints([...req.nsFds, -1]));
  mem.slot(1, mem.strings(req.paths));
  mem.slot(2, mem.strings(req.argv));
  mem.slot(3, mem.strings(req.env));
  mem.slot(4, mem.string(req.cwd));
  mem.slot(5, mem.ints(req.groups ?? []));
  mem.slot(6, req.groups === null ? -1 : req.groups.length);
  mem.slot(7, req.uid);
  mem.slot(8, req.gid);
  mem.slot(9, keep);
  mem.slot(10, req.lastCap);
  mem.slot(11, pidPipe.write);
  mem.slot(12, errPipe.write);
  mem.slot(13, req.noNewPrivs ? 1 : 0);
  req.stdio.forEach((fd, i) => mem.slot(14 + i, fd));
  mem.slot(17, req.rootFd);
  mem.slot(18, req.tty ? 1 : 0);
  let ambient = 0n;
  for (const c of req.ambient ?? []) ambient |= 1n << BigInt(c);
  mem.slot(21, ambient);
  mem.slot(22, 3 + (req.preserveFds ?? 0));
  if (req.seccomp) {
    mem.slot(19, mem.sockFprog(req.seccomp.subarray(4)));
    mem.slot(
      20,
      new DataView(req.seccomp.buffer, req.seccomp.byteOffset).getUint32(
        0,
        true,
      ),
    );
  }
  let child: number;
  try {
    child = libc().clone(
      routinePage(execRoutine()),
      mem.stackTop,
      SIGCHLD,
      mem.block,
    );
    check("clone", child);
  } finally {
    mem.free();
    closeFd(pidPipe.write);
    closeFd(errPipe.write);
  }
  // The intermediate child exits at once: reap it, then read what it said.
  await libc().waitpid(child, new Uint8Array(4), 0);
  const pidBytes = new Uint8Array(
    await new Response(pidPipe.file.readable).arrayBuffer(),
  );
  const failure = new Uint8Array(
    await new Response(errPipe.file.readable).arrayBuffer(),
  );
  const pid = pidBytes.length === 4
    ? new DataView(pidBytes.buffer).getInt32(0, true)
    : 0;
  if (failure.length > 0 || pid === 0) {
    if (pid) await libc().waitpid(pid, new Uint8Array(4), 0);
    return { failure: failure[0] ?? 125 };
  }
  return { pid };
}
