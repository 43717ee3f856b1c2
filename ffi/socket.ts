/**
 * IPv4 UDP through raw descriptors: a socket bound in one network namespace
 * (the host's) and served by a process in another (a container's), which no
 * Deno socket API can adopt. And Unix datagram sockets (systemd's
 * NOTIFY_SOCKET), which Deno's stable API has not.
 */
import { writeFd } from "./pty.ts";
import { AF_INET, AF_UNIX, SOCK_DGRAM } from "./constants.ts";
import { check, libc } from "./libc.ts";

const SOCKADDR_IN = 16;

/** A struct sockaddr_in for `ip:port`. */
export function sockaddrIn(ip: string, port: number): Uint8Array<ArrayBuffer> {
  const sa = new Uint8Array(SOCKADDR_IN);
  const v = new DataView(sa.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port);
  ip.split(".").forEach((b, i) => (sa[4 + i] = Number(b)));
  return sa;
}

/**
 * A UDP socket bound to `ip:port`, inheritable (for a child to serve).
 * Throws a SysError (EADDRINUSE when the port is taken).
 */
export function udpBound(ip: string, port: number): number {
  const fd = check("socket", libc().socket(AF_INET, SOCK_DGRAM, 0));
  const sa = sockaddrIn(ip, port);
  try {
    check("bind", libc().bind(fd, sa, SOCKADDR_IN), `${ip}:${port}`);
  } catch (e) {
    libc().close(fd);
    throw e;
  }
  return fd;
}

/**
 * Waits (on a worker thread) for one datagram on `fd` into `buf`; returns
 * its length and sender, or null once the socket fails (closed).
 */
export async function receiveFrom(
  fd: number,
  buf: Uint8Array<ArrayBuffer>,
): Promise<{ n: number; from: Uint8Array<ArrayBuffer> } | null> {
  const from = new Uint8Array(SOCKADDR_IN);
  const len = new Uint32Array([SOCKADDR_IN]);
  const n = Number(
    await libc().recvfrom_wait(
      fd,
      buf,
      BigInt(buf.length),
      0,
      from,
      new Uint8Array(len.buffer),
    ),
  );
  return n < 0 ? null : { n, from };
}

/** Sends one datagram from `fd` to the sockaddr `to`; false if it failed. */
export function sendTo(
  fd: number,
  data: Uint8Array<ArrayBuffer>,
  to: Uint8Array<ArrayBuffer>,
): boolean {
  return Number(
    libc().sendto(fd, data, BigInt(data.length), 0, to, to.length),
  ) === data.length;
}

const SOCK_CLOEXEC = 0o2000000;
const SHUT = { read: 0, write: 1, both: 2 };

/**
 * Waits (on a worker thread) for a connection on the listening socket
 * `fd` (one a parent handed down, as systemd's socket activation does);
 * returns its close-on-exec fd, or null once the socket is shut down.
 */
export async function acceptOn(fd: number): Promise<number | null> {
  const conn = await libc().accept_wait(fd, null, null, SOCK_CLOEXEC);
  return conn < 0 ? null : conn;
}

/** Writes all of `data` to the socket `fd` without blocking the event loop. */
export async function sendAll(fd: number, data: Uint8Array): Promise<void> {
  await writeFd(fd, data.slice());
}

/**
 * Shuts a socket down: "write" ends our side (the peer may still send);
 * "read" and "both" also wake a worker thread waiting on it (an accept or
 * a read), which closing the fd would not.
 */
export function shutdownSocket(fd: number, how: keyof typeof SHUT): void {
  libc().shutdown(fd, SHUT[how]);
}

/** A struct sockaddr_un for `path`; "@name" is in the abstract namespace. */
export function sockaddrUn(path: string): Uint8Array<ArrayBuffer> {
  const name = new TextEncoder().encode(path);
  const sa = new Uint8Array(2 + name.length + 1);
  new DataView(sa.buffer).setUint16(0, AF_UNIX, true);
  sa.set(name, 2);
  if (!path.startsWith("@")) return sa;
  sa[2] = 0;
  return sa.slice(0, 2 + name.length);
}

/** A Unix datagram socket, bound to `path` if given (SysError on failure). */
export function unixDatagram(path?: string): number {
  const fd = check("socket", libc().socket(AF_UNIX, SOCK_DGRAM, 0));
  if (path === undefined) return fd;
  const sa = sockaddrUn(path);
  try {
    check("bind", libc().bind(fd, sa, sa.length), path);
  } catch (e) {
    libc().close(fd);
    throw e;
  }
  return fd;
}
