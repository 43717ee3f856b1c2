/**
 * clone() + execve() without JavaScript in the child. The child is created in
 * new namespaces, blocks on a sync pipe while the parent writes its uid/gid
 * maps, then execs. This is the only way a multi-threaded Deno process can
 * start a process in a new user namespace (see DESIGN.md).
 */
import { Arena, routinePage } from "./arena.ts";
import { childRoutine } from "./child_routine.ts";
import {
  CLONE_PARENT,
  CLONE_VM,
  O_CLOEXEC,
  SIGCHLD,
  SIGKILL,
} from "./constants.ts";
import { errnoName } from "./errno.ts";
import { joinRoutine } from "./join_routine.ts";
import { check, libc } from "./libc.ts";

/** What the child execs, and the namespaces it is born in. */
export interface CloneRequest {
  /** CLONE_NEW* flags; SIGCHLD is added. */
  flags: number;
  path: string;
  argv: string[];
  env: string[];
  /**
   * Namespace fds to enter first, in setns() order (an owning user
   * namespace before what it owns). The child is then forked from inside
   * them (join_routine.ts), still the caller's child, so `flags` should not
   * ask for a new user namespace where one is joined.
   */
  join?: number[];
}

/** This process's environment as execve takes it: NAME=VALUE strings. */
export function environ(): string[] {
  return Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`);
}

/** A child blocked before execve, waiting for release() or abort(). */
export interface ClonedChild {
  pid: number;
  /** Lets the child execve. */
  release(): void;
  /** Makes the child exit 127 without exec'ing. */
  abort(): void;
}

/** A close-on-exec pipe as raw fds: [read, write]. */
function cloexecPipe(): [number, number] {
  const fds = new Int32Array(2);
  check("pipe2", libc().pipe2(new Uint8Array(fds.buffer), O_CLOEXEC));
  return [fds[0], fds[1]];
}

/**
 * The argument block both routines share: the sync pipe's ends, path, argv,
 * envp (slots 5 and 6 are the join routine's).
 */
function childArena(
  req: CloneRequest,
  [syncFd, writeFd]: [number, number],
): Arena {
  const join = req.join ?? [];
  const mem = new Arena({
    slots: 8,
    strings: [req.path, ...req.argv, ...req.env],
    lists: [req.argv.length, req.env.length],
    ints: [join.length],
  });
  mem.slot(0, syncFd);
  mem.slot(1, mem.string(req.path));
  mem.slot(2, mem.strings(req.argv));
  mem.slot(3, mem.strings(req.env));
  mem.slot(4, mem.ints([...join, -1]));
  mem.slot(7, writeFd);
  return mem;
}

/**
 * With `req.join`, the clone()d child is an intermediate: it reports the
 * pid of the process it forked on `pidFd` and exits (with the errno when it
 * could not enter or fork). Reaps it and returns that pid.
 */
async function joinedPid(mid: number, pidFd: number): Promise<number> {
  const code = exitCode(await waitStatus(mid));
  const buf = new Int32Array(1);
  // The intermediate wrote before exiting, so this read cannot block.
  const n = code === 0
    ? Number(libc().read(pidFd, new Uint8Array(buf.buffer), 4n))
    : 0;
  if (n !== 4) {
    throw new Error(
      `cannot enter the namespaces to join: ${
        code > 0 && code < 128 ? errnoName(code) : `exit ${code}`
      }`,
    );
  }
  return buf[0];
}

/**
 * Frees the arena of a CLONE_VM child once it no longer runs on it: `execFd`
 * is the read end of a pipe whose close-on-exec write end only the child
 * holds, so EOF comes when it execs or dies.
 */
async function freeAfterExec(mem: Arena, execFd: number) {
  await libc().read_wait(execFd, new Uint8Array(1), 1n);
  libc().close(execFd);
  mem.free();
}

/**
 * Clones a child into new namespaces (after entering `req.join`'s, if
 * given); it execs only once released.
 */
export async function cloneExec(req: CloneRequest): Promise<ClonedChild> {
  const c = libc();
  const [rfd, wfd] = cloexecPipe();
  const [pidRead, pidWrite] = req.join ? cloexecPipe() : [-1, -1];
  // Without a join, the child shares our memory (CLONE_VM) until it execs:
  // a clone that copies this large address space costs ~10 ms of page
  // tables. A joining child must not share it: setns() into a user
  // namespace refuses a caller whose memory another process shares.
  const [execRead, execWrite] = req.join ? [-1, -1] : cloexecPipe();
  const mem = childArena(req, [rfd, wfd]);
  mem.slot(5, req.flags | CLONE_PARENT | SIGCHLD);
  mem.slot(6, pidWrite);
  let pid = -1;
  try {
    pid = c.clone(
      routinePage(req.join ? joinRoutine() : childRoutine()),
      mem.stackTop,
      req.join ? SIGCHLD : req.flags | CLONE_VM | SIGCHLD,
      mem.block,
    );
    check("clone", pid);
    if (pidWrite >= 0) c.close(pidWrite);
    if (req.join) pid = await joinedPid(pid, pidRead);
  } catch (e) {
    c.close(wfd);
    throw e;
  } finally {
    c.close(rfd);
    if (pidRead >= 0) c.close(pidRead);
    if (execWrite >= 0) c.close(execWrite);
    // A forked child has its own copy of the pages: ours can go now.
    if (execRead >= 0 && pid > 0) freeAfterExec(mem, execRead);
    else {
      if (execRead >= 0) c.close(execRead);
      mem.free();
    }
  }
  let done = false;
  const finish = (go: boolean) => {
    if (done) return;
    done = true;
    if (go) c.write(wfd, new Uint8Array([1]), 1n);
    // The child closed its copy of the write end, so closing ours ends its
    // wait; the kill makes sure it is gone before the caller reaps it.
    else c.kill(pid, SIGKILL);
    c.close(wfd);
  };
  return { pid, release: () => finish(true), abort: () => finish(false) };
}

/** Waits for a child without blocking the event loop; returns the raw status. */
export async function waitStatus(pid: number): Promise<number> {
  const status = new Int32Array(1);
  const buf = new Uint8Array(status.buffer);
  for (;;) {
    const r = await libc().waitpid(pid, buf, 0);
    if (r === pid) return status[0];
    // errno lives on the worker thread that ran the call: report what we know.
    throw new Error(`waitpid ${pid} failed`);
  }
}

/** Decodes a wait status the shell's way: exit code, or 128+signal. */
export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}
