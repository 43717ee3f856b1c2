/**
 * Handing a descriptor to another process over a unix socket (SCM_RIGHTS),
 * as a runtime hands a container's console to conmon (--console-socket):
 * init opens the pty inside the container and sends its master back.
 */
import { check, libc } from "./libc.ts";

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
// struct cmsghdr { size_t len; int level; int type; } then one int: 20
// bytes of message (CMSG_LEN(4)) in 24 of space (CMSG_SPACE(4)).
const CMSG_LEN = 20;
const CMSG_SPACE = 24;

/** A connected pair of unix stream sockets, both ends inheritable. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  check(
    "socketpair",
    libc().socketpair(AF_UNIX, SOCK_STREAM, 0, new Uint8Array(fds.buffer)),
  );
  return [fds[0], fds[1]];
}

const addr = (buf: Uint8Array) =>
  BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));

/**
 * A struct msghdr over one byte of data and room for one descriptor;
 * the buffers it points into are returned with it, to stay alive.
 */
function message() {
  const byte = new Uint8Array(1);
  const iov = new BigUint64Array([addr(byte), 1n]);
  const control = new Uint8Array(CMSG_SPACE);
  const hdr = new BigUint64Array(7);
  // msg_name, msg_namelen (0), msg_iov, msg_iovlen, msg_control,
  // msg_controllen, msg_flags.
  hdr[2] = addr(new Uint8Array(iov.buffer));
  hdr[3] = 1n;
  hdr[4] = addr(control);
  hdr[5] = BigInt(CMSG_SPACE);
  return { hdr: new Uint8Array(hdr.buffer), keep: [byte, iov], control };
}

/** Sends `fd` over the unix socket `sock`. */
export function sendFd(sock: number, fd: number): void {
  const m = message();
  const v = new DataView(m.control.buffer);
  v.setBigUint64(0, BigInt(CMSG_LEN), true);
  v.setInt32(8, SOL_SOCKET, true);
  v.setInt32(12, SCM_RIGHTS, true);
  v.setInt32(16, fd, true);
  check("sendmsg", libc().sendmsg(sock, m.hdr, 0));
  m.keep.length = 0; // the buffers lived until here
}

const MSG_CMSG_CLOEXEC = 0x40000000;

/**
 * Waits (on a worker thread) for a descriptor on `sock`; it arrives
 * close-on-exec. Undefined when the peer closed without sending one.
 */
export async function receiveFd(sock: number): Promise<number | undefined> {
  const m = message();
  const n = Number(
    await libc().recvmsg_wait(sock, m.hdr, MSG_CMSG_CLOEXEC),
  );
  m.keep.length = 0; // the buffers lived until here
  const v = new DataView(m.control.buffer);
  if (
    n <= 0 || v.getInt32(8, true) !== SOL_SOCKET ||
    v.getInt32(12, true) !== SCM_RIGHTS
  ) return undefined;
  return v.getInt32(16, true);
}
