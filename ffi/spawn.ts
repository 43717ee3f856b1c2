/**
 * Short helper programs (newuidmap, newgidmap) started with glibc's
 * posix_spawn: its child shares the parent's memory until it execs
 * (CLONE_VM|CLONE_VFORK), where Deno.Command forks, and a fork of a Deno
 * process copies the page tables of a large address space: ~10 ms for the
 * first spawn of a run, against well under one here. No JavaScript runs in
 * the child: it only execs.
 */
import { exitCode } from "./clone.ts";
import { O_WRONLY } from "./constants.ts";
import { closeFd, pipeFromChild } from "./fd.ts";
import { cstr, libc } from "./libc.ts";

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

/**
 * Runs `argv` (argv[0] looked up on PATH) with stdin and stdout on
 * /dev/null and stderr captured, and waits for it.
 */
export async function spawnWait(argv: string[]): Promise<SpawnResult> {
  const c = libc();
  const env = Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`);
  const args = cstrings(argv), envp = cstrings(env);
  const actions = new Uint8Array(FILE_ACTIONS_SIZE);
  const err = pipeFromChild(true);
  const devnull = cstr("/dev/null");
  const pid = new Int32Array(1);
  let rc: number;
  c.posix_spawn_file_actions_init(actions);
  try {
    c.posix_spawn_file_actions_addopen(actions, 0, devnull, 0, 0);
    c.posix_spawn_file_actions_addopen(actions, 1, devnull, O_WRONLY, 0);
    c.posix_spawn_file_actions_adddup2(actions, err.write, 2);
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
    closeFd(err.write);
  }
  if (rc !== 0) {
    err.file.close();
    if (rc === ENOENT) throw new NotOnPath(`${argv[0]} not found`);
    throw new Error(`posix_spawn ${argv[0]}: error ${rc}`);
  }
  const stderr = await new Response(err.file.readable).text();
  const status = new Int32Array(1);
  await c.waitpid(pid[0], new Uint8Array(status.buffer), 0);
  return { code: exitCode(status[0]), stderr };
}
