/**
 * Raw descriptors a parent hands to a clone()d child: Deno opens everything
 * close-on-exec, so descriptors meant to be inherited (a monitor's stdio
 * pipes, init's error pipe) are made here, through libc.
 */
import { O_CLOEXEC, O_RDONLY, O_RDWR } from "./constants.ts";
import { check, cstr, libc } from "./libc.ts";

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** A pipe whose ends survive execve: [read, write]. */
export function inheritablePipe(): [number, number] {
  const fds = new Int32Array(2);
  check("pipe2", libc().pipe2(new Uint8Array(fds.buffer), 0));
  return [fds[0], fds[1]];
}

/**
 * A pipe read through Deno (close-on-exec, async reads) whose raw write end
 * is for a child: inherited across execve unless `cloexec`.
 */
export function pipeFromChild(cloexec = false): {
  file: Deno.FsFile;
  write: number;
} {
  const [r, w] = inheritablePipe();
  const file = Deno.openSync(`/proc/self/fd/${r}`, { read: true });
  closeFd(r);
  if (cloexec) setCloexec(w);
  return { file, write: w };
}

const O_PATH = 0o10000000;
const OPEN_MODES = { read: O_RDONLY, readwrite: O_RDWR, path: O_PATH };

/**
 * Opens `path` as a raw close-on-exec descriptor. "path" (O_PATH) reaches
 * directories the caller may not read, e.g. a FUSE root that only its own
 * user namespace may enter, for fchdir() from inside that namespace.
 */
export function openRaw(
  path: string,
  mode: keyof typeof OPEN_MODES = "read",
): number {
  return check(
    "open",
    libc().open(cstr(path), OPEN_MODES[mode] | O_CLOEXEC, 0),
    path,
  );
}

/** Closes a raw descriptor; an already closed one is fine. */
export function closeFd(fd: number): void {
  libc().close(fd);
}

/** Makes `fd` a copy of `from`. */
export function dupOnto(from: number, fd: number): void {
  check("dup2", libc().dup2(from, fd));
}

/** Clears close-on-exec: a child that execs keeps `fd`. */
export function setInheritable(fd: number): void {
  check("fcntl F_SETFD", libc().fcntl(fd, F_SETFD, 0));
}

/**
 * Whether `fd` is open and survives execve: one the caller was given by
 * its own parent, since Deno opens its own close-on-exec.
 */
export function isInherited(fd: number): boolean {
  const flags = libc().fcntl(fd, F_GETFD, 0);
  return flags >= 0 && (flags & FD_CLOEXEC) === 0;
}

/** Marks `fd` close-on-exec, so only the calling process keeps it. */
export function setCloexec(fd: number): void {
  check("fcntl F_SETFD", libc().fcntl(fd, F_SETFD, FD_CLOEXEC));
}

/** Starts a new session, detaching from the controlling terminal. */
export function newSession(): void {
  check("setsid", libc().setsid());
}

const NS_GET_USERNS = 0xb701;
const NS_GET_NSTYPE = 0xb703;

/**
 * The user namespace that owns the namespace `fd` refers to, as a new
 * close-on-exec descriptor (ioctl NS_GET_USERNS).
 */
export function namespaceOwner(fd: number): number {
  return check(
    "ioctl NS_GET_USERNS",
    libc().ioctl(fd, BigInt(NS_GET_USERNS), null),
  );
}

/**
 * The CLONE_NEW* type of the namespace `fd` refers to, or -1 when it is no
 * namespace. Works on a bind mount of one too, whose /proc/self/fd link
 * shows its path rather than "net:[...]".
 */
export function namespaceType(fd: number): number {
  return libc().ioctl(fd, BigInt(NS_GET_NSTYPE), null);
}

const POLLERR = 0x8;
const POLLHUP = 0x10;

/**
 * Whether nobody reads `fd` any more: poll() reports POLLERR on a pipe's
 * write end once every reader has closed it (POLLHUP on a socket whose peer
 * has gone). Used to tell a write error on our own stdout from one on
 * another pipe.
 */
export function readerGone(fd: number): boolean {
  // struct pollfd { int fd; short events; short revents; }
  const pfd = new Int32Array([fd, 0]);
  if (libc().poll(new Uint8Array(pfd.buffer), 1n, 0) <= 0) return false;
  return (new Int16Array(pfd.buffer)[3] & (POLLERR | POLLHUP)) !== 0;
}
