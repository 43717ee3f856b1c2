/**
 * Helper programs (newuidmap, newgidmap, the monitor) started with glibc's
 * posix_spawn: its child shares the parent's memory until it execs
 * (CLONE_VM|CLONE_VFORK), where Deno.Command forks, and a fork of a Deno
 * process copies the page tables of a large address space: ~10 ms for the
 * first spawn of a run, against well under one here. No JavaScript runs in
 * the child: it only execs.
 */
import { environ, exitCode, waitStatus } from "./clone.ts";
import { O_RDWR } from "./constants.ts";
import { closeFd, inheritablePipe, setCloexec } from "./fd.ts";
import { cstr, libc } from "./libc.ts";
import { readFd } from "./pty.ts";

/** How a spawned program ended, and what it wrote to stderr. */
export interface SpawnResult {
  /** Exit code, or 128+N for signal N. */
  code: number;
  stderr: string;
}

/** Raised when the program is not on PATH (posix_spawnp's ENOENT). */
export class NotOnPath extends Error {}

const ENOENT = 2;
// glibc's posix_spawn_file_actions_t is 80 bytes on 64-bit; leave room.
const FILE_ACTIONS_SIZE = 128;

/** NUL-terminated strings and the NULL-terminated pointer array to them. */
function cstrings(list: string[]) {
  const keep = list.map(cstr);
  const ptrs = new BigUint64Array(list.length + 1);
  keep.forEach((s, i) =>
    ptrs[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s)))
  );
  return { keep, ptrs };
}

/** A started program: its pid and, if asked, the read end of its pipe. */
export interface Spawned {
  pid: number;
  /** Raw fd to read what the program writes to the piped descriptor. */
  output?: number;
}

/**
 * Starts `argv` (argv[0] looked up on PATH) with 0, 1 and 2 on /dev/null,
 * except descriptor `pipe` (1 or 2), if given, which is a pipe to us.
 */
export function spawn(argv: string[], pipe?: 1 | 2): Spawned {
  const c = libc();
  const args = cstrings(argv), envp = cstrings(environ());
  const actions = new Uint8Array(FILE_ACTIONS_SIZE);
  // Both ends close-on-exec: the child gets the write end by dup2 only.
  const out = pipe === undefined ? undefined : inheritablePipe();
  out?.forEach(setCloexec);
  const devnull = cstr("/dev/null");
  const pid = new Int32Array(1);
  let rc: number;
  c.posix_spawn_file_actions_init(actions);
  try {
    for (const fd of [0, 1, 2]) {
      if (out && fd === pipe) {
        c.posix_spawn_file_actions_adddup2(actions, out[1], fd);
      } else {
        c.posix_spawn_file_actions_addopen(actions, fd, devnull, O_RDWR, 0);
      }
    }
    rc = c.posix_spawnp(
      new Uint8Array(pid.buffer),
      cstr(argv[0]),
      actions,
      null,
      new Uint8Array(args.ptrs.buffer),
      new Uint8Array(envp.ptrs.buffer),
    );
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
    if (out) closeFd(out[1]);
  }
  if (rc !== 0) {
    if (out) closeFd(out[0]);
    if (rc === ENOENT) throw new NotOnPath(`${argv[0]} not found`);
    throw new Error(`posix_spawn ${argv[0]}: error ${rc}`);
  }
  return { pid: pid[0], output: out?.[0] };
}

/**
 * Reads `fd` to its end, or to the end of the first line with `line`, then
 * closes it. Raw reads on a worker thread: a first use of web streams would
 * cost a short-lived CLI several ms.
 */
export async function readText(fd: number, line = false): Promise<string> {
  const dec = new TextDecoder();
  const buf = new Uint8Array(4096);
  let text = "";
  try {
    for (let n; (n = await readFd(fd, buf)) !== null;) {
      text += dec.decode(buf.subarray(0, n), { stream: true });
      if (line && text.includes("\n")) return text.slice(0, text.indexOf("\n"));
    }
    return text + dec.decode();
  } finally {
    closeFd(fd);
  }
}

/** Runs `argv` with its stderr captured, and waits for it. */
export async function spawnWait(argv: string[]): Promise<SpawnResult> {
  const child = spawn(argv, 2);
  const stderr = await readText(child.output!);
  return { code: exitCode(await waitStatus(child.pid)), stderr };
}
