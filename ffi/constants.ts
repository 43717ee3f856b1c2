/**
 * Kernel constants ptd passes to libc. Values are the Linux ABI ones; the
 * syscall numbers are per architecture, which is why they sit in a table.
 */

/** The new process is a sibling: the caller's parent is its parent. */
export const CLONE_VM = 0x00000100;
export const CLONE_PARENT = 0x00008000;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const SIGCHLD = 17;

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_NOATIME = 0x400;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_STRICTATIME = 0x1000000;
export const MNT_DETACH = 0x2;

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_STACK = 0x20000;

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
export const O_NOCTTY = 0o400;

export const PR_SET_PDEATHSIG = 1;
export const PR_SET_KEEPCAPS = 8;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_CAP_AMBIENT = 47;
export const PR_CAP_AMBIENT_RAISE = 2;

export const SIGKILL = 9;
export const SIGPIPE = 13;
export const SIG_DFL = 0;
export const CLOSE_RANGE_CLOEXEC = 1 << 2;

export const AF_INET = 2;
export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const IFF_UP = 0x1;

/** Syscalls that glibc does not wrap, or whose glibc wrapper acts on every
 * thread (setresuid and friends broadcast to all threads; ptd wants only the
 * thread that will execve). */
export interface SyscallNumbers {
  setgroups: number;
  setresuid: number;
  setresgid: number;
  capget: number;
  capset: number;
  pivot_root: number;
  close_range: number;
  openat2: number;
  seccomp: number;
  open_tree: number;
  move_mount: number;
}

const X86_64: SyscallNumbers = {
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  capget: 125,
  capset: 126,
  pivot_root: 155,
  close_range: 436,
  openat2: 437,
  seccomp: 317,
  open_tree: 428,
  move_mount: 429,
};

const AARCH64: SyscallNumbers = {
  setgroups: 159,
  setresuid: 147,
  setresgid: 149,
  capget: 90,
  capset: 91,
  pivot_root: 41,
  close_range: 436,
  openat2: 437,
  seccomp: 277,
  open_tree: 428,
  move_mount: 429,
};

/** The syscall numbers of the architecture ptd runs on. */
export const SYS: SyscallNumbers = Deno.build.arch === "aarch64"
  ? AARCH64
  : X86_64;
