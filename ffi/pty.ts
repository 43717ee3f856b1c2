/**
 * Pseudo-terminals for -t: a master the monitor (run) or the CLI (exec)
 * relays to the user's terminal, a slave that becomes the command's stdio
 * and controlling tty. Opened from the container's own devpts, so that the
 * command finds its terminal under /dev/pts.
 */
import { O_CLOEXEC, O_NOCTTY, O_RDWR } from "./constants.ts";
import { check, cstr, libc } from "./libc.ts";

const TIOCSPTLCK = 0x40045431;
const TIOCGPTN = 0x80045430;
const TIOCSWINSZ = 0x5414;

/** A pty pair as raw close-on-exec descriptors, and the slave's path. */
export interface Pty {
  master: number;
  slave: number;
  path: string;
}

/**
 * A new pty from the devpts instance mounted at `pts` (its own ptmx), or
 * from /dev/ptmx; `path` is the slave's under `pts`.
 */
export function openPty(pts = "/dev/pts", ptmx = "/dev/ptmx"): Pty {
  const c = libc();
  const master = check(
    "open",
    c.open(cstr(ptmx), O_RDWR | O_NOCTTY | O_CLOEXEC, 0),
    ptmx,
  );
  const n = new Int32Array(1);
  const buf = new Uint8Array(n.buffer);
  check("ioctl TIOCSPTLCK", c.ioctl(master, BigInt(TIOCSPTLCK), buf));
  check("ioctl TIOCGPTN", c.ioctl(master, BigInt(TIOCGPTN), buf));
  const path = `${pts}/${n[0]}`;
  const slave = check(
    "open",
    c.open(cstr(path), O_RDWR | O_NOCTTY | O_CLOEXEC, 0),
    path,
  );
  return { master, slave, path };
}

const TIOCSCTTY = 0x540e;

/** Starts a new session whose controlling terminal is `fd` (a pty slave). */
export function takeControllingTerminal(fd: number): void {
  check("setsid", libc().setsid());
  check("ioctl TIOCSCTTY", libc().ioctl(fd, BigInt(TIOCSCTTY), null));
}

/** Sets the window size the program on the pty sees. */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  check(
    "ioctl TIOCSWINSZ",
    libc().ioctl(fd, BigInt(TIOCSWINSZ), new Uint8Array(ws.buffer)),
  );
}

/** Reads from a raw fd without blocking the event loop; null at EOF or EIO. */
export async function readFd(fd: number, buf: Uint8Array<ArrayBuffer>) {
  const n = Number(await libc().read_wait(fd, buf, BigInt(buf.length)));
  return n > 0 ? n : null;
}

/**
 * Writes all of `data` to a raw fd on a worker thread: a terminal or pipe
 * whose reader is busy blocks the write, never the event loop, which must
 * go on reading the reader's output (else both wait for each other).
 * Rejects once the fd fails (its reader is gone).
 */
export async function writeFd(
  fd: number,
  data: Uint8Array<ArrayBuffer>,
): Promise<void> {
  for (let off = 0; off < data.length;) {
    const n = Number(
      await libc().write_wait(
        fd,
        data.subarray(off),
        BigInt(data.length - off),
      ),
    );
    if (n < 0) throw new Error(`write to fd ${fd} failed`);
    off += n;
  }
}
