/**
 * The calls `ptd init` makes to build a container, behind one interface: the
 * real one goes to libc, the recording fake (fake.ts) lets the mount and
 * credential sequence be unit-tested without privilege.
 */
import {
  AF_INET,
  CLONE_NEWCGROUP,
  CLOSE_RANGE_CLOEXEC,
  IFF_UP,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_RAISE,
  PR_CAPBSET_DROP,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
  PR_SET_PDEATHSIG,
  SIGPIPE,
  SIOCGIFFLAGS,
  SIOCSIFFLAGS,
  SOCK_DGRAM,
} from "./constants.ts";
import { check, cstr, cstrOrNull, libc, rawSyscall } from "./libc.ts";
import { sendFd } from "./fd_passing.ts";
import { AT_FDCWD } from "./fs.ts";
import {
  openPty,
  type Pty,
  setWindowSize,
  takeControllingTerminal,
} from "./pty.ts";

const O_PATH = 0o10000000;
const AT_RECURSIVE = 0x8000;
const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = O_CLOEXEC;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const O_NOFOLLOW = 0o400000;
const CAP_VERSION_3 = 0x20080522;
const SECCOMP_SET_MODE_FILTER = 1;

/** What init asks of the kernel. Paths are as the calling process sees them. */
export interface Syscalls {
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data?: string | null,
  ): void;
  umount(target: string, flags: number): void;
  pivotRoot(newRoot: string, putOld: string): void;
  chdir(path: string): void;
  /** The working directory; "" when it lies outside the root. */
  getcwd(): string;
  sethostname(name: string): void;
  /**
   * A cgroup namespace rooted at the caller's current cgroup (the one
   * unshare flag a multi-threaded process may use: it implies no other).
   */
  unshareCgroup(): void;
  /** An O_PATH descriptor, for bind sources that must outlive pivot_root. */
  openPath(path: string): number;
  /**
   * A detached copy of the mount tree at `path` (open_tree), attached
   * later with attachTree: it needs no /proc to be named, as a bind of an
   * O_PATH descriptor does.
   */
  cloneTree(path: string): number;
  /** Attaches a cloneTree copy at `target` (move_mount). */
  attachTree(fd: number, target: string): void;
  close(fd: number): void;
  /** Whether a path exists (without following a final symlink). */
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  mkdirAll(path: string, mode: number): void;
  /** Creates an empty file if nothing is at `path`. */
  ensureFile(path: string): void;
  /** Writes `text` to the existing file `path` (a /proc/sys knob). */
  writeFile(path: string, text: string): void;
  /** Gives `path` an owner and permission bits (a mounted secret). */
  setOwner(path: string, uid: number, gid: number, mode: number): void;
  symlink(target: string, path: string): void;
  linkUp(name: string): void;
  /**
   * Opens /dev/fuse (close-on-exec): a FUSE connection to mount with
   * `fd=N`, served by a daemon the descriptor is handed to.
   */
  openFuse(): number;
  dropBoundingCap(cap: number): void;
  setKeepCaps(on: boolean): void;
  setgroups(gids: number[]): void;
  setresgid(gid: number): void;
  setresuid(uid: number): void;
  /**
   * Sets the effective and permitted sets to `caps` and the inheritable
   * set to `inheritable` (bit numbers).
   */
  capset(caps: number[], inheritable: number[]): void;
  /** Raises `cap` in the ambient set (it must be permitted and inheritable). */
  raiseAmbient(cap: number): void;
  noNewPrivs(): void;
  /**
   * Loads a seccomp filter on the calling thread: `filter` is its
   * sock_filter entries, `flags` SECCOMP_FILTER_FLAG_* bits.
   */
  seccomp(filter: Uint8Array, flags: number): void;
  /** setrlimit(2); -1 stands for RLIM_INFINITY. */
  setrlimit(resource: number, soft: number, hard: number): void;
  parentDeathSignal(sig: number): void;
  /** The file mode creation mask the command starts with (--umask). */
  umask(mask: number): void;
  /** The execution domain (--personality): PER_LINUX, PER_LINUX32. */
  personality(persona: number): void;
  /**
   * Puts default signal dispositions and mask back, closes stray fds on
   * exec: all from 3, or past the `keep` descriptors from 3 (--preserve-fds).
   */
  resetForExec(keep?: number): void;
  /** Makes `fd` the process's stdin. */
  dupTo(fd: number, target: number): void;
  /** A new pty from /dev/ptmx, sized `size` ([rows, cols]) if given. */
  openConsole(size?: [number, number]): Pty;
  /** Sends `fd` over the unix socket `sock`. */
  sendFd(sock: number, fd: number): void;
  /** A new session whose controlling terminal is `fd`. */
  takeTerminal(fd: number): void;
  openRead(path: string): number;
  execve(path: string, argv: string[], env: string[]): never;
}

function cstrArray(items: string[]) {
  const bufs = items.map(cstr);
  const ptrs = new BigUint64Array(items.length + 1);
  bufs.forEach((b, i) =>
    ptrs[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)))
  );
  return { bufs, ptrs: new Uint8Array(ptrs.buffer) };
}

function capMask(caps: number[]): [number, number] {
  let lo = 0, hi = 0;
  for (const c of caps) {
    if (c < 32) lo |= 1 << c;
    else hi |= 1 << (c - 32);
  }
  return [lo >>> 0, hi >>> 0];
}

/** The real kernel, through ffi/libc.ts. */
export class RealSyscalls implements Syscalls {
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null = null,
  ) {
    check(
      "mount",
      libc().mount(
        cstrOrNull(source),
        cstr(target),
        cstrOrNull(fstype),
        BigInt(flags),
        cstrOrNull(data),
      ),
      target,
    );
  }
  umount(target: string, flags: number) {
    check("umount2", libc().umount2(cstr(target), flags), target);
  }
  pivotRoot(newRoot: string, putOld: string) {
    const a = cstr(newRoot), b = cstr(putOld);
    rawSyscall(
      "pivot_root",
      Deno.UnsafePointer.of(a),
      Deno.UnsafePointer.of(b),
    );
  }
  chdir(path: string) {
    check("chdir", libc().chdir(cstr(path)), path);
  }
  getcwd() {
    try {
      return Deno.cwd();
    } catch {
      return "";
    }
  }
  sethostname(name: string) {
    const b = cstr(name);
    check("sethostname", libc().sethostname(b, BigInt(b.length - 1)));
  }
  unshareCgroup() {
    check("unshare", libc().unshare(CLONE_NEWCGROUP));
  }
  openPath(path: string) {
    return check(
      "open",
      libc().open(cstr(path), O_PATH | O_CLOEXEC | O_NOFOLLOW, 0),
      path,
    );
  }
  close(fd: number) {
    check("close", libc().close(fd));
  }
  cloneTree(path: string) {
    return rawSyscall(
      "open_tree",
      AT_FDCWD,
      Deno.UnsafePointer.of(cstr(path)),
      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE,
    );
  }
  attachTree(fd: number, target: string) {
    rawSyscall(
      "move_mount",
      fd,
      Deno.UnsafePointer.of(cstr("")),
      AT_FDCWD,
      Deno.UnsafePointer.of(cstr(target)),
      MOVE_MOUNT_F_EMPTY_PATH,
    );
  }
  exists(path: string) {
    try {
      Deno.lstatSync(path);
      return true;
    } catch {
      return false;
    }
  }
  isDirectory(path: string) {
    try {
      return Deno.statSync(path).isDirectory;
    } catch {
      return false;
    }
  }
  mkdirAll(path: string, mode: number) {
    Deno.mkdirSync(path, { recursive: true, mode });
  }
  ensureFile(path: string) {
    if (this.exists(path)) return;
    Deno.writeFileSync(path, new Uint8Array(), { mode: 0o644 });
  }
  setOwner(path: string, uid: number, gid: number, mode: number) {
    Deno.chownSync(path, uid, gid);
    Deno.chmodSync(path, mode);
  }
  writeFile(path: string, text: string) {
    Deno.writeTextFileSync(path, text, { create: false });
  }
  symlink(target: string, path: string) {
    Deno.symlinkSync(target, path);
  }
  linkUp(name: string) {
    const c = libc();
    const sock = check("socket", c.socket(AF_INET, SOCK_DGRAM, 0));
    try {
      const ifr = new Uint8Array(40);
      ifr.set(new TextEncoder().encode(name));
      check(
        "ioctl SIOCGIFFLAGS",
        c.ioctl(sock, BigInt(SIOCGIFFLAGS), ifr),
        name,
      );
      const view = new DataView(ifr.buffer);
      view.setUint16(16, view.getUint16(16, true) | IFF_UP, true);
      check(
        "ioctl SIOCSIFFLAGS",
        c.ioctl(sock, BigInt(SIOCSIFFLAGS), ifr),
        name,
      );
    } finally {
      c.close(sock);
    }
  }
  openFuse() {
    return check(
      "open",
      libc().open(cstr("/dev/fuse"), O_RDWR | O_CLOEXEC, 0),
      "/dev/fuse",
    );
  }
  dropBoundingCap(cap: number) {
    check(
      "prctl PR_CAPBSET_DROP",
      libc().prctl(PR_CAPBSET_DROP, BigInt(cap), 0n, 0n, 0n),
    );
  }
  setKeepCaps(on: boolean) {
    check(
      "prctl PR_SET_KEEPCAPS",
      libc().prctl(PR_SET_KEEPCAPS, on ? 1n : 0n, 0n, 0n, 0n),
    );
  }
  setgroups(gids: number[]) {
    const list = new Uint32Array(gids.length || 1);
    list.set(gids);
    rawSyscall("setgroups", gids.length, Deno.UnsafePointer.of(list));
  }
  setresgid(gid: number) {
    rawSyscall("setresgid", gid, gid, gid);
  }
  setresuid(uid: number) {
    rawSyscall("setresuid", uid, uid, uid);
  }
  capset(caps: number[], inheritable: number[]) {
    const header = new Uint32Array([CAP_VERSION_3, 0]);
    const [lo, hi] = capMask(caps);
    const [ilo, ihi] = capMask(inheritable);
    const data = new Uint32Array([lo, lo, ilo, hi, hi, ihi]);
    rawSyscall(
      "capset",
      Deno.UnsafePointer.of(header),
      Deno.UnsafePointer.of(data),
    );
  }
  raiseAmbient(cap: number) {
    check(
      "prctl PR_CAP_AMBIENT",
      libc().prctl(
        PR_CAP_AMBIENT,
        BigInt(PR_CAP_AMBIENT_RAISE),
        BigInt(cap),
        0n,
        0n,
      ),
    );
  }
  seccomp(filter: Uint8Array, flags: number) {
    // struct sock_fprog: u16 count, then (aligned) the entries' address.
    const prog = new BigUint64Array(2);
    prog[0] = BigInt(filter.length / 8);
    prog[1] = BigInt(
      Deno.UnsafePointer.value(
        Deno.UnsafePointer.of(filter as Uint8Array<ArrayBuffer>),
      ),
    );
    rawSyscall(
      "seccomp",
      SECCOMP_SET_MODE_FILTER,
      flags,
      Deno.UnsafePointer.of(prog),
    );
  }
  noNewPrivs() {
    check(
      "prctl PR_SET_NO_NEW_PRIVS",
      libc().prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n),
    );
  }
  setrlimit(resource: number, soft: number, hard: number) {
    const lim = (n: number) => n < 0 ? 0xffffffffffffffffn : BigInt(n);
    const buf = new BigUint64Array([lim(soft), lim(hard)]);
    check(
      "setrlimit",
      libc().setrlimit(resource, new Uint8Array(buf.buffer)),
    );
  }
  parentDeathSignal(sig: number) {
    check(
      "prctl PR_SET_PDEATHSIG",
      libc().prctl(PR_SET_PDEATHSIG, BigInt(sig), 0n, 0n, 0n),
    );
  }
  umask(mask: number) {
    libc().umask(mask);
  }
  personality(persona: number) {
    check("personality", libc().personality(BigInt(persona)));
  }
  resetForExec(keep = 0) {
    const c = libc();
    // Deno's runtime ignores SIGPIPE; an ignored disposition survives execve.
    c.signal_default(SIGPIPE);
    c.sigprocmask(2, /* SIG_SETMASK */ new Uint8Array(8), null);
    rawSyscall("close_range", 3 + keep, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  }
  dupTo(fd: number, target: number) {
    check("dup2", libc().dup2(fd, target));
  }
  openConsole(size?: [number, number]) {
    const pty = openPty();
    if (size) setWindowSize(pty.master, ...size);
    return pty;
  }
  sendFd(sock: number, fd: number) {
    sendFd(sock, fd);
  }
  takeTerminal(fd: number) {
    takeControllingTerminal(fd);
  }
  openRead(path: string) {
    return check(
      "open",
      libc().open(cstr(path), O_RDONLY | O_CLOEXEC, 0),
      path,
    );
  }
  execve(path: string, argv: string[], env: string[]): never {
    const a = cstrArray(argv), e = cstrArray(env);
    check("execve", libc().execve(cstr(path), a.ptrs, e.ptrs), path);
    throw new Error("unreachable: execve returned");
  }
}
