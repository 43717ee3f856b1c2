/**
 * The one door to libc. Every call ptd makes is declared here, and check()
 * turns a -1 return into a SysError that names the call and its errno.
 * Nothing in src/ calls Deno.dlopen.
 *
 * Deno builds a call stub for every symbol it binds, ~0.11 ms each plus
 * ~0.05 ms per dlopen, which every short-lived ptd process pays as it
 * starts. So the plain system calls bind no symbol of their own: they go
 * through glibc's syscall(), which sets errno as the wrappers do, and a
 * process binds a handful of symbols. glibc's own functions stay where they
 * do more than pass their arguments to one system call: clone (runs a
 * function on a new stack), posix_spawn and its file actions, strerror.
 */
import { SYS, type SyscallNumbers } from "./constants.ts";
import { SysError } from "./errno.ts";

/** syscall(2)'s number and six argument registers. */
const WORDS = ["i64", "i64", "i64", "i64", "i64", "i64", "i64"] as const;

const symbols = {
  __errno_location: { parameters: [], result: "pointer" },
  syscall: { parameters: WORDS, result: "i64" },
  // Deno runs a nonblocking symbol on a worker thread, so the calls that
  // wait (for a pipe, a socket, a child) leave the event loop free. errno
  // is then the worker's: their callers look at the result only.
  syscall_wait: {
    name: "syscall",
    parameters: WORDS,
    result: "i64",
    nonblocking: true,
  },
  strerror: { parameters: ["i32"], result: "pointer" },
  clone: {
    parameters: ["pointer", "pointer", "i32", "pointer"],
    result: "i32",
  },
  posix_spawnp: {
    parameters: ["buffer", "buffer", "buffer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_adddup2: {
    parameters: ["buffer", "i32", "i32"],
    result: "i32",
  },
} as const;

type Glibc = Deno.DynamicLibrary<typeof symbols>["symbols"];
type Name = keyof typeof symbols;

// Symbols a process uses together are bound in one dlopen; any other is
// bound alone, on its first use. libc is already loaded in the process, so
// dlopen finds it by name, without a file lookup (init binds symbols after
// pivot_root too).
const GROUPS: Name[][] = [
  ["__errno_location", "syscall"],
  [
    "posix_spawnp",
    "posix_spawn_file_actions_init",
    "posix_spawn_file_actions_adddup2",
    "posix_spawn_file_actions_addopen",
    "posix_spawn_file_actions_destroy",
  ],
];

const opened: Partial<Glibc> = {};

function bind<N extends Name>(name: N): Glibc[N] {
  const group = GROUPS.find((g) => g.includes(name)) ?? [name];
  const lib = Deno.dlopen(
    "libc.so.6",
    Object.fromEntries(group.map((n) => [n, symbols[n]])) as typeof symbols,
  );
  for (const n of group) Object.assign(opened, { [n]: lib.symbols[n] });
  return lib.symbols[name];
}

const glibc = new Proxy({} as Glibc, {
  get(_, name: Name) {
    return opened[name] ?? bind(name);
  },
});

type Word = number | bigint;
/**
 * syscall(2) as bound. Deno takes a number for an i64 as well as a bigint
 * (its types say bigint), so no argument is converted, nor any allocated.
 */
type Syscall<R> = (
  nr: number,
  ...args: [Word, Word, Word, Word, Word, Word]
) => R;

// Bound before any call: errno() must not dlopen (which may set errno)
// between a failed call and its read.
const syscall = bind("syscall") as unknown as Syscall<bigint>;
const errnoLocation = opened.__errno_location!;

type Buf = ArrayBufferView | ArrayBuffer | null;
/** What a syscall() argument may be: a number, a buffer, a pointer. */
type Arg = Word | Buf | Deno.PointerObject;

function word(v: Arg): Word {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (v === null) return 0;
  const p = v instanceof ArrayBuffer || ArrayBuffer.isView(v)
    ? Deno.UnsafePointer.of(v as BufferSource)
    : v;
  return Deno.UnsafePointer.value(p);
}

/** syscall(2): the raw result, -1 with errno set on failure. */
function sys(
  nr: number,
  a: Arg = 0,
  b: Arg = 0,
  c: Arg = 0,
  d: Arg = 0,
  e: Arg = 0,
  f: Arg = 0,
): bigint {
  return syscall(nr, word(a), word(b), word(c), word(d), word(e), word(f));
}

/** sys() on a worker thread: for a call that waits. */
async function sysWait(nr: number, ...args: Arg[]): Promise<bigint> {
  const wait = glibc.syscall_wait as unknown as Syscall<Promise<bigint>>;
  const [a, b = 0, c = 0, d = 0, e = 0, f = 0] = args.map(word);
  const r = await wait(nr, a, b, c, d, e, f);
  args.length = 0; // the buffers the worker wrote into lived until here
  return r;
}

const int = (r: bigint) => Number(r);

/** Fails as glibc does where it refuses before the kernel is asked. */
function fail(e: number): -1 {
  new Int32Array(
    Deno.UnsafePointerView.getArrayBuffer(errnoLocation()!, 4),
  )[0] = e;
  return -1;
}

const AT_FDCWD = -100;
const F_GETFL = 3;
const EBADF = 9;
const EINVAL = 22;
/** The kernel's sigset_t: 64 signals (glibc's is 128 bytes, mostly unused). */
const SIGSET_SIZE = 8;

function timespec(ms: number): Uint8Array<ArrayBuffer> {
  const s = Math.floor(ms / 1000);
  return new Uint8Array(
    new BigInt64Array([BigInt(s), BigInt((ms - 1000 * s) * 1e6)]).buffer,
  );
}

// The calls as glibc's functions of the same names make them (the same
// arguments, results and errno), each one system call; `_wait` ones run on
// a worker thread. Where glibc adds a check of its own, so does the call.
const calls = {
  read: (fd: number, buf: Buf, n: Word) => sys(SYS.read, fd, buf, n),
  read_wait: (fd: number, buf: Buf, n: Word) => sysWait(SYS.read, fd, buf, n),
  write: (fd: number, buf: Buf, n: Word) => sys(SYS.write, fd, buf, n),
  write_wait: (fd: number, buf: Buf, n: Word) => sysWait(SYS.write, fd, buf, n),
  open: (path: Buf, flags: number, mode: number) =>
    int(sys(SYS.openat, AT_FDCWD, path, flags, mode)),
  openat: (dirfd: number, path: Buf, flags: number, mode: number) =>
    int(sys(SYS.openat, dirfd, path, flags, mode)),
  openat2: (dirfd: number, path: Buf, how: Buf, size: number) =>
    int(sys(SYS.openat2, dirfd, path, how, size)),
  close: (fd: number) => int(sys(SYS.close, fd)),
  // glibc's dup2 where the kernel has only dup3, which refuses fd == fd2.
  dup2: (fd: number, fd2: number) =>
    fd !== fd2
      ? int(sys(SYS.dup3, fd, fd2, 0))
      : int(sys(SYS.fcntl, fd, F_GETFL)) < 0
      ? -1
      : fd,
  fcntl: (fd: number, cmd: number, arg: number) =>
    int(sys(SYS.fcntl, fd, cmd, arg)),
  pipe2: (fds: Buf, flags: number) => int(sys(SYS.pipe2, fds, flags)),
  ioctl: (fd: number, request: Word, arg: Buf) =>
    int(sys(SYS.ioctl, fd, request, arg)),
  poll: (fds: Buf, n: Word, timeoutMs: number) =>
    int(sys(
      SYS.ppoll,
      fds,
      n,
      timeoutMs < 0 ? null : timespec(timeoutMs),
      null,
      SIGSET_SIZE,
    )),
  /** The mapping's address, or -1. */
  mmap: (
    addr: Deno.PointerValue,
    len: Word,
    prot: number,
    flags: number,
    fd: number,
    offset: Word,
  ) => sys(SYS.mmap, addr, len, prot, flags, fd, offset),
  mprotect: (addr: Deno.PointerValue, len: Word, prot: number) =>
    int(sys(SYS.mprotect, addr, len, prot)),
  munmap: (addr: Deno.PointerValue, len: Word) =>
    int(sys(SYS.munmap, addr, len)),
  waitpid: async (pid: number, status: Buf, options: number) =>
    int(await sysWait(SYS.wait4, pid, status, options, null)),
  kill: (pid: number, sig: number) => int(sys(SYS.kill, pid, sig)),
  setsid: () => int(sys(SYS.setsid)),
  umask: (mask: number) => int(sys(SYS.umask, mask)),
  chdir: (path: Buf) => int(sys(SYS.chdir, path)),
  mount: (source: Buf, target: Buf, fstype: Buf, flags: Word, data: Buf) =>
    int(sys(SYS.mount, source, target, fstype, flags, data)),
  umount2: (target: Buf, flags: number) => int(sys(SYS.umount2, target, flags)),
  sethostname: (name: Buf, len: Word) => int(sys(SYS.sethostname, name, len)),
  unshare: (flags: number) => int(sys(SYS.unshare, flags)),
  prctl: (option: number, a: Word, b: Word, c: Word, d: Word) =>
    int(sys(SYS.prctl, option, a, b, c, d)),
  setrlimit: (resource: number, limit: Buf) =>
    int(sys(SYS.prlimit64, 0, resource, limit, null)),
  personality: (persona: Word) => int(sys(SYS.personality, persona)),
  /**
   * signal(sig, SIG_DFL). No handler ever runs, so no restorer is needed,
   * the one thing glibc's sigaction adds.
   */
  signal_default: (sig: number) =>
    int(sys(SYS.rt_sigaction, sig, new Uint8Array(32), null, SIGSET_SIZE)),
  sigprocmask: (how: number, set: Buf, old: Buf) =>
    int(sys(SYS.rt_sigprocmask, how, set, old, SIGSET_SIZE)),
  execve: (path: Buf, argv: Buf, envp: Buf) =>
    int(sys(SYS.execve, path, argv, envp)),
  socket: (domain: number, type: number, protocol: number) =>
    int(sys(SYS.socket, domain, type, protocol)),
  socketpair: (domain: number, type: number, protocol: number, fds: Buf) =>
    int(sys(SYS.socketpair, domain, type, protocol, fds)),
  bind: (fd: number, addr: Buf, len: number) =>
    int(sys(SYS.bind, fd, addr, len)),
  accept_wait: async (
    fd: number,
    addr: Deno.PointerValue,
    len: Deno.PointerValue,
    flags: number,
  ) => int(await sysWait(SYS.accept4, fd, addr, len, flags)),
  shutdown: (fd: number, how: number) => int(sys(SYS.shutdown, fd, how)),
  sendto: (
    fd: number,
    buf: Buf,
    n: Word,
    flags: number,
    to: Buf,
    toLen: number,
  ) => sys(SYS.sendto, fd, buf, n, flags, to, toLen),
  recvfrom_wait: (
    fd: number,
    buf: Buf,
    n: Word,
    flags: number,
    from: Buf,
    fromLen: Buf,
  ) => sysWait(SYS.recvfrom, fd, buf, n, flags, from, fromLen),
  sendmsg: (fd: number, msg: Buf, flags: number) =>
    sys(SYS.sendmsg, fd, msg, flags),
  recvmsg_wait: (fd: number, msg: Buf, flags: number) =>
    sysWait(SYS.recvmsg, fd, msg, flags),
  mkdirat: (dirfd: number, path: Buf, mode: number) =>
    int(sys(SYS.mkdirat, dirfd, path, mode)),
  // The kernel's dev_t is 32 bits: glibc refuses a larger one.
  mknodat: (dirfd: number, path: Buf, mode: number, dev: bigint) =>
    BigInt.asUintN(32, dev) !== dev
      ? fail(EINVAL)
      : int(sys(SYS.mknodat, dirfd, path, mode, dev)),
  symlinkat: (target: Buf, dirfd: number, path: Buf) =>
    int(sys(SYS.symlinkat, target, dirfd, path)),
  linkat: (
    oldDirfd: number,
    oldPath: Buf,
    newDirfd: number,
    newPath: Buf,
    flags: number,
  ) => int(sys(SYS.linkat, oldDirfd, oldPath, newDirfd, newPath, flags)),
  unlinkat: (dirfd: number, path: Buf, flags: number) =>
    int(sys(SYS.unlinkat, dirfd, path, flags)),
  fchown: (fd: number, uid: number, gid: number) =>
    int(sys(SYS.fchown, fd, uid, gid)),
  fchownat: (fd: number, path: Buf, uid: number, gid: number, flag: number) =>
    int(sys(SYS.fchownat, fd, path, uid, gid, flag)),
  fchmod: (fd: number, mode: number) => int(sys(SYS.fchmod, fd, mode)),
  /** fchmodat(dirfd, path, mode, 0): it follows a symlink at `path`. */
  fchmodat: (dirfd: number, path: Buf, mode: number) =>
    int(sys(SYS.fchmodat, dirfd, path, mode)),
  utimensat: (dirfd: number, path: Buf, times: Buf, flags: number) =>
    int(sys(SYS.utimensat, dirfd, path, times, flags)),
  // utimensat with no path acts on dirfd itself, AT_FDCWD (< 0) included.
  futimens: (fd: number, times: Buf) =>
    fd < 0 ? fail(EBADF) : int(sys(SYS.utimensat, fd, null, times, 0)),
  fsetxattr: (fd: number, name: Buf, value: Buf, size: Word, flags: number) =>
    int(sys(SYS.fsetxattr, fd, name, value, size, flags)),
  lsetxattr: (path: Buf, name: Buf, value: Buf, size: Word, flags: number) =>
    int(sys(SYS.lsetxattr, path, name, value, size, flags)),
  lgetxattr: (path: Buf, name: Buf, value: Buf, size: Word) =>
    sys(SYS.lgetxattr, path, name, value, size),
  llistxattr: (path: Buf, list: Buf, size: Word) =>
    sys(SYS.llistxattr, path, list, size),
};

type Libc =
  & typeof calls
  & Omit<Glibc, "__errno_location" | "syscall" | "syscall_wait" | "strerror">;

const lazy = new Proxy({} as Libc, {
  get(_, name: string) {
    return name in calls
      ? calls[name as keyof typeof calls]
      : glibc[name as Name];
  },
});

/**
 * libc's functions: the system calls through syscall(), glibc's own bound
 * on first use.
 */
export function libc(): Libc {
  return lazy;
}

/** The calling thread's errno, read right after a failed call. */
export function errno(): number {
  return new Deno.UnsafePointerView(errnoLocation()!).getInt32();
}

function strerror(n: number): string {
  const p = glibc.strerror(n);
  return p ? Deno.UnsafePointerView.getCString(p) : "unknown error";
}

/** Throws a SysError naming `call` when `ret` is -1, else returns it. */
export function check<T extends number | bigint>(
  call: string,
  ret: T,
  subject?: string,
): T {
  if (Number(ret) === -1) {
    const e = errno();
    throw new SysError(call, e, strerror(e), subject);
  }
  return ret;
}

/** A NUL-terminated copy of a string, for `buffer` parameters. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Like cstr, but null stays null (optional mount arguments). */
export function cstrOrNull(s: string | null): Uint8Array<ArrayBuffer> | null {
  return s === null ? null : cstr(s);
}

/**
 * A system call by name with up to six arguments (numbers, buffers or
 * pointers); throws a SysError named after it when it fails.
 */
export function rawSyscall(
  name: keyof SyscallNumbers,
  ...args: [a?: Arg, b?: Arg, c?: Arg, d?: Arg, e?: Arg, f?: Arg]
): number {
  return int(check(name, sys(SYS[name], ...args)));
}
