/**
 * Raw descriptors a parent hands to a clone()d child: Deno opens everything
 * close-on-exec, so descriptors meant to be inherited (a monitor's stdio
 * pipes, init's error pipe) are made here, through libc.
 */
import { check, libc } from "./libc.ts";

const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** A pipe whose ends survive execve: [read, write]. */
export function inheritablePipe(): [number, number] {
  const fds = new Int32Array(2);
  check("pipe2", libc().pipe2(new Uint8Array(fds.buffer), 0));
  return [fds[0], fds[1]];
}

/** Closes a raw descriptor; an already closed one is fine. */
export function closeFd(fd: number): void {
  libc().close(fd);
}

/** Makes `fd` a copy of `from`. */
export function dupOnto(from: number, fd: number): void {
  check("dup2", libc().dup2(from, fd));
}

/** Marks `fd` close-on-exec, so only the calling process keeps it. */
export function setCloexec(fd: number): void {
  check("fcntl F_SETFD", libc().fcntl(fd, F_SETFD, FD_CLOEXEC));
}

/** Starts a new session, detaching from the controlling terminal. */
export function newSession(): void {
  check("setsid", libc().setsid());
}
