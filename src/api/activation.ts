/**
 * systemd's socket activation: a service started with LISTEN_FDS (and
 * LISTEN_PID naming it) serves the listening socket it inherited as fd 3.
 * Deno cannot adopt a descriptor as a listener, so connections on it are
 * accepted, read and written through libc on worker threads.
 */
import { closeFd } from "../../ffi/fd.ts";
import { readFd } from "../../ffi/pty.ts";
import { acceptOn, sendAll, shutdownSocket } from "../../ffi/socket.ts";
import type { RawConn } from "./http.ts";

/** The first descriptor systemd passes (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

/** A connection accepted on an inherited socket. */
class FdConn implements RawConn {
  #closed = false;

  constructor(readonly fd: number) {}

  async read(p: Uint8Array): Promise<number | null> {
    if (this.#closed) return null;
    const buf = new Uint8Array(p.length);
    const n = await readFd(this.fd, buf);
    if (n !== null) p.set(buf.subarray(0, n));
    return n;
  }

  async write(data: Uint8Array): Promise<number> {
    if (this.#closed) throw new Error("the connection is closed");
    await sendAll(this.fd, data);
    return data.length;
  }

  closeWrite(): Promise<void> {
    if (!this.#closed) shutdownSocket(this.fd, "write");
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    shutdownSocket(this.fd, "both");
    closeFd(this.fd);
  }
}

/** Connections on an inherited listening socket, until `close`. */
export interface InheritedListener extends AsyncIterable<RawConn> {
  close(): void;
}

/**
 * The socket systemd passed, if this process was socket-activated; the
 * LISTEN_* variables are dropped so that monitors spawned later do not
 * take them for their own.
 */
export function activatedListener(): InheritedListener | undefined {
  const fds = Number(Deno.env.get("LISTEN_FDS") ?? 0);
  const pid = Deno.env.get("LISTEN_PID");
  for (const v of ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]) {
    Deno.env.delete(v);
  }
  if (fds < 1 || pid !== String(Deno.pid)) return undefined;
  let open = true;
  return {
    async *[Symbol.asyncIterator]() {
      for (let fd; open && (fd = await acceptOn(FIRST_FD)) !== null;) {
        yield new FdConn(fd);
      }
    },
    close() {
      open = false;
      shutdownSocket(FIRST_FD, "read");
    },
  };
}
