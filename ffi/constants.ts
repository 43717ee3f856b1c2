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
export const CLOSE_RANGE_CLOEXEC = 1 << 2;

export const AF_INET = 2;
export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const IFF_UP = 0x1;

/**
 * The system calls ptd makes by number, through glibc's syscall(): those
 * glibc does not wrap, those whose wrapper acts on every thread (setresuid
 * and friends broadcast to all threads; ptd wants only the thread that will
 * execve), and the plain ones behind libc()'s functions (libc.ts), which
 * cost no symbol of their own that way. Only the calls both architectures
 * have: glibc's open, dup2 and poll are openat, dup3 and ppoll underneath.
 */
export interface SyscallNumbers {
  read: number;
  write: number;
  close: number;
  openat: number;
  dup3: number;
  fcntl: number;
  pipe2: number;
  ioctl: number;
  ppoll: number;
  mmap: number;
  mprotect: number;
  munmap: number;
  wait4: number;
  kill: number;
  setsid: number;
  umask: number;
  chdir: number;
  mount: number;
  umount2: number;
  sethostname: number;
  unshare: number;
  prctl: number;
  prlimit64: number;
  personality: number;
  rt_sigaction: number;
  rt_sigprocmask: number;
  execve: number;
  socket: number;
  socketpair: number;
  bind: number;
  accept4: number;
  shutdown: number;
  sendto: number;
  recvfrom: number;
  sendmsg: number;
  recvmsg: number;
  mkdirat: number;
  mknodat: number;
  symlinkat: number;
  linkat: number;
  unlinkat: number;
  fchown: number;
  fchownat: number;
  fchmod: number;
  fchmodat: number;
  utimensat: number;
  fsetxattr: number;
  lsetxattr: number;
  lgetxattr: number;
  llistxattr: number;
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
  read: 0,
  write: 1,
  close: 3,
  openat: 257,
  dup3: 292,
  fcntl: 72,
  pipe2: 293,
  ioctl: 16,
  ppoll: 271,
  mmap: 9,
  mprotect: 10,
  munmap: 11,
  wait4: 61,
  kill: 62,
  setsid: 112,
  umask: 95,
  chdir: 80,
  mount: 165,
  umount2: 166,
  sethostname: 170,
  unshare: 272,
  prctl: 157,
  prlimit64: 302,
  personality: 135,
  rt_sigaction: 13,
  rt_sigprocmask: 14,
  execve: 59,
  socket: 41,
  socketpair: 53,
  bind: 49,
  accept4: 288,
  shutdown: 48,
  sendto: 44,
  recvfrom: 45,
  sendmsg: 46,
  recvmsg: 47,
  mkdirat: 258,
  mknodat: 259,
  symlinkat: 266,
  linkat: 265,
  unlinkat: 263,
  fchown: 93,
  fchownat: 260,
  fchmod: 91,
  fchmodat: 268,
  utimensat: 280,
  fsetxattr: 190,
  lsetxattr: 189,
  lgetxattr: 192,
  llistxattr: 195,
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
  read: 63,
  write: 64,
  close: 57,
  openat: 56,
  dup3: 24,
  fcntl: 25,
  pipe2: 59,
  ioctl: 29,
  ppoll: 73,
  mmap: 222,
  mprotect: 226,
  munmap: 215,
  wait4: 260,
  kill: 129,
  setsid: 157,
  umask: 166,
  chdir: 49,
  mount: 40,
  umount2: 39,
  sethostname: 161,
  unshare: 97,
  prctl: 167,
  prlimit64: 261,
  personality: 92,
  rt_sigaction: 134,
  rt_sigprocmask: 135,
  execve: 221,
  socket: 198,
  socketpair: 199,
  bind: 200,
  accept4: 242,
  shutdown: 210,
  sendto: 206,
  recvfrom: 207,
  sendmsg: 211,
  recvmsg: 212,
  mkdirat: 34,
  mknodat: 33,
  symlinkat: 36,
  linkat: 37,
  unlinkat: 35,
  fchown: 55,
  fchownat: 54,
  fchmod: 52,
  fchmodat: 53,
  utimensat: 88,
  fsetxattr: 7,
  lsetxattr: 6,
  lgetxattr: 9,
  llistxattr: 12,
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

/** The syscall numbers of each architecture ptd runs on. */
export const SYSCALL_NUMBERS = { x86_64: X86_64, aarch64: AARCH64 };

/** The syscall numbers of the architecture ptd runs on. */
export const SYS: SyscallNumbers = SYSCALL_NUMBERS[Deno.build.arch];
