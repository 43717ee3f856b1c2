/**
 * The one door to libc. Every symbol ptd uses is declared here, opened once
 * and lazily, and wrapped so that a -1 return becomes a SysError that names
 * the call and its errno. Nothing in src/ calls Deno.dlopen.
 */
import { SYS } from "./constants.ts";
import { SysError } from "./errno.ts";

const symbols = {
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  mmap: {
    parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"],
    result: "pointer",
  },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  clone: {
    parameters: ["pointer", "pointer", "i32", "pointer"],
    result: "i32",
  },
  waitpid: {
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
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
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  read_wait: {
    name: "read",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write_wait: {
    name: "write",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  mount: {
    parameters: ["buffer", "buffer", "buffer", "u64", "buffer"],
    result: "i32",
  },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  chdir: { parameters: ["buffer"], result: "i32" },
  sethostname: { parameters: ["buffer", "usize"], result: "i32" },
  unshare: { parameters: ["i32"], result: "i32" },
  prctl: {
    parameters: ["i32", "u64", "u64", "u64", "u64"],
    result: "i32",
  },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  sigprocmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recvfrom_wait: {
    name: "recvfrom",
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "isize",
    nonblocking: true,
  },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  recvmsg_wait: {
    name: "recvmsg",
    parameters: ["i32", "buffer", "i32"],
    result: "isize",
    nonblocking: true,
  },
  accept_wait: {
    name: "accept4",
    parameters: ["i32", "pointer", "pointer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  umask: { parameters: ["u32"], result: "u32" },
  personality: { parameters: ["u64"], result: "i32" },
  setsid: { parameters: [], result: "i32" },
  syscall: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  mknodat: { parameters: ["i32", "buffer", "u32", "u64"], result: "i32" },
  symlinkat: { parameters: ["buffer", "i32", "buffer"], result: "i32" },
  linkat: {
    parameters: ["i32", "buffer", "i32", "buffer", "i32"],
    result: "i32",
  },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  fchown: { parameters: ["i32", "u32", "u32"], result: "i32" },
  fchownat: {
    parameters: ["i32", "buffer", "u32", "u32", "i32"],
    result: "i32",
  },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  fchmodat: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  utimensat: {
    parameters: ["i32", "buffer", "buffer", "i32"],
    result: "i32",
  },
  futimens: { parameters: ["i32", "buffer"], result: "i32" },
  fsetxattr: {
    parameters: ["i32", "buffer", "buffer", "usize", "i32"],
    result: "i32",
  },
  lsetxattr: {
    parameters: ["buffer", "buffer", "buffer", "usize", "i32"],
    result: "i32",
  },
  lgetxattr: {
    parameters: ["buffer", "buffer", "buffer", "usize"],
    result: "isize",
  },
  llistxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
} as const;

type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];
type Name = keyof typeof symbols;

const opened: Partial<Record<Name, unknown>> = {};

// Deno builds a call stub for every symbol it is given, ~0.15 ms each: the
// whole table would cost each ptd process ~10 ms, where a run touches a
// fraction of it. So each symbol is bound on its first use. libc is already
// loaded in the process, so dlopen finds it by name, without a file lookup
// (init binds symbols after pivot_root too).
const lazy = new Proxy({} as Libc, {
  get(_, name: Name) {
    return opened[name] ??= bind(name);
  },
});

function bind(name: Name): unknown {
  return Deno.dlopen("libc.so.6", {
    [name]: symbols[name],
  } as Pick<typeof symbols, Name>).symbols[name];
}

// dlopen itself may set errno: errno() must not bind anything between a
// failed call and the read.
opened.__errno_location = bind("__errno_location");

/** The libc symbol table; each symbol is bound on first use. */
export function libc(): Libc {
  return lazy;
}

/** The calling thread's errno, read right after a failed call. */
export function errno(): number {
  const p = libc().__errno_location();
  return new Deno.UnsafePointerView(p!).getInt32();
}

function strerror(n: number): string {
  const p = libc().strerror(n);
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

/** A raw syscall by number with up to five integer arguments. */
export function rawSyscall(
  name: keyof typeof SYS,
  ...args: (number | bigint | Deno.PointerValue)[]
): number {
  const nr = SYS[name];
  const a = args.map((v) =>
    v === null
      ? 0n
      : typeof v === "object"
      ? BigInt(Deno.UnsafePointer.value(v))
      : BigInt(v)
  );
  while (a.length < 5) a.push(0n);
  return Number(
    check(name, libc().syscall(BigInt(nr), a[0], a[1], a[2], a[3], a[4])),
  );
}
