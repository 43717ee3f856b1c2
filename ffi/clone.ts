/**
 * clone() + execve() without JavaScript in the child. The child is created in
 * new namespaces, blocks on a sync pipe while the parent writes its uid/gid
 * maps, then execs. This is the only way a multi-threaded Deno process can
 * start a process in a new user namespace (see DESIGN.md).
 */
import { childRoutine } from "./child_routine.ts";
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_STACK,
  O_CLOEXEC,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  SIGCHLD,
  SIGKILL,
} from "./constants.ts";
import { check, libc } from "./libc.ts";

const STACK_SIZE = 64 * 1024;
const pages = new Map<Uint8Array, Deno.PointerObject>();

/** Anonymous private memory, which a clone()d child gets a copy of. */
export function mapAnon(size: number, prot: number): Deno.PointerObject {
  const p = libc().mmap(
    null,
    BigInt(size),
    prot,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
    -1,
    0n,
  );
  if (p === null || Deno.UnsafePointer.value(p) === -1n) {
    throw new Error("mmap failed");
  }
  return p;
}

/** An executable page holding `code` (one page per routine, kept). */
export function routinePage(code: Uint8Array): Deno.PointerObject {
  const known = pages.get(code);
  if (known) return known;
  const page = mapAnon(4096, PROT_READ | PROT_WRITE);
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(page, code.length))
    .set(code);
  check("mprotect", libc().mprotect(page, 4096n, PROT_READ | PROT_EXEC));
  pages.set(code, page);
  return page;
}

/** What the child execs, and the namespaces it is born in. */
export interface CloneRequest {
  /** CLONE_NEW* flags; SIGCHLD is added. */
  flags: number;
  path: string;
  argv: string[];
  env: string[];
}

/** A child blocked before execve, waiting for release() or abort(). */
export interface ClonedChild {
  pid: number;
  /** Lets the child execve. */
  release(): void;
  /** Makes the child exit 127 without exec'ing. */
  abort(): void;
}

/** Lays argv/env out in mmap'd memory the child inherits: pointers, then strings. */
function layout(req: CloneRequest, fd: number) {
  const enc = new TextEncoder();
  const strings = [req.path, ...req.argv, ...req.env].map((s) => enc.encode(s));
  const ptrBytes = 8 * (req.argv.length + 1 + req.env.length + 1);
  const strBytes = strings.reduce((n, s) => n + s.length + 1, 0);
  const size = STACK_SIZE + 32 + ptrBytes + strBytes;
  const base = mapAnon(size, PROT_READ | PROT_WRITE);
  const view = new DataView(Deno.UnsafePointerView.getArrayBuffer(base, size));
  const addr = BigInt(Deno.UnsafePointer.value(base));
  const block = STACK_SIZE;
  let ptr = block + 32;
  let str = ptr + ptrBytes;
  const put = (s: Uint8Array): bigint => {
    new Uint8Array(view.buffer, str, s.length).set(s);
    view.setUint8(str + s.length, 0);
    const at = addr + BigInt(str);
    str += s.length + 1;
    return at;
  };
  view.setInt32(block, fd, true);
  view.setBigUint64(block + 8, put(strings[0]), true);
  const list = (items: Uint8Array[]): bigint => {
    const start = addr + BigInt(ptr);
    for (const s of items) {
      view.setBigUint64(ptr, put(s), true);
      ptr += 8;
    }
    view.setBigUint64(ptr, 0n, true);
    ptr += 8;
    return start;
  };
  view.setBigUint64(
    block + 16,
    list(strings.slice(1, 1 + req.argv.length)),
    true,
  );
  view.setBigUint64(block + 24, list(strings.slice(1 + req.argv.length)), true);
  return {
    base,
    size,
    stackTop: Deno.UnsafePointer.create(addr + BigInt(STACK_SIZE - 16)),
    arg: Deno.UnsafePointer.create(addr + BigInt(block)),
  };
}

/** Clones a child into new namespaces; it execs only once released. */
export function cloneExec(req: CloneRequest): ClonedChild {
  const c = libc();
  const fds = new Int32Array(2);
  check("pipe2", c.pipe2(new Uint8Array(fds.buffer), O_CLOEXEC));
  const [rfd, wfd] = fds;
  const mem = layout(req, rfd);
  let pid: number;
  try {
    pid = c.clone(
      routinePage(childRoutine()),
      mem.stackTop,
      req.flags | SIGCHLD,
      mem.arg,
    );
    check("clone", pid);
  } catch (e) {
    c.close(wfd);
    throw e;
  } finally {
    // The child has its own copy of the pages; the parent's can go now.
    c.munmap(mem.base, BigInt(mem.size));
    c.close(rfd);
  }
  let done = false;
  const finish = (go: boolean) => {
    if (done) return;
    done = true;
    if (go) c.write(wfd, new Uint8Array([1]), 1n);
    // Until it execs, the child holds its own copy of the write end: closing
    // ours is no EOF to it, so an aborted child must be killed.
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
