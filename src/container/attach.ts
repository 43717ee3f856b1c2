/**
 * The attach socket: the monitor serves the container's output and takes
 * its input on a unix socket in the container's runtime directory; `ptd
 * attach` connects to it. Frames are [kind u8][length u32 BE][bytes]:
 * output kinds are 1 (stdout) and 2 (stderr); input kinds are 0 (stdin
 * bytes), 3 (stdin closed) and 4 (terminal size: rows, cols as u16 BE);
 * the last frame a client gets is 5 (exit code, one byte). Kind 6 asks
 * the monitor to make the container's networking again (network reload);
 * the client alone gets a 6 back, empty when done, else the error.
 */
import { conflict } from "../runtime/errors.ts";
import { parseDetachKeys, scanDetach } from "./detach_keys.ts";
import { ensureDir } from "../storage/paths.ts";
import type { ContainerConfig } from "./config.ts";
import type { ContainerStore } from "./store.ts";

/** Frame kinds. */
export const STDIN = 0,
  STDOUT = 1,
  STDERR = 2,
  STDIN_CLOSED = 3,
  RESIZE = 4,
  EXIT = 5,
  RELOAD = 6;

const SOCKET = "attach";

/** One frame, ready to write. */
export function frame(
  kind: number,
  data: Uint8Array = new Uint8Array(),
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + data.length);
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

/** The frames of a byte stream, however they were cut. */
export async function* frames(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<[number, Uint8Array<ArrayBuffer>]> {
  let buf = new Uint8Array();
  for await (const chunk of stream) {
    buf = new Uint8Array([...buf, ...chunk]);
    while (buf.length >= 5) {
      const len = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
      if (buf.length < 5 + len) break;
      yield [buf[0], buf.slice(5, 5 + len)];
      buf = buf.slice(5 + len);
    }
  }
}

/**
 * Runs `fn` with the working directory in `dir`: socket paths under a long
 * runtime directory pass the 108-byte limit of sockaddr_un, relative ones
 * do not.
 */
function inDir<T>(dir: string, fn: () => T): T {
  const back = Deno.cwd();
  Deno.chdir(dir);
  try {
    return fn();
  } finally {
    Deno.chdir(back);
  }
}

/** The monitor's side: every attached client gets the output. */
export class AttachServer {
  private clients = new Set<Deno.UnixConn>();
  private listener: Deno.UnixListener;
  /** The terminal size a -t container gets: from the CLI, then clients. */
  size?: [number, number];
  /**
   * Where input from clients goes (set per run of the container); a client
   * is read on once its last input went.
   */
  input: (
    kind: number,
    data: Uint8Array<ArrayBuffer>,
  ) => void | Promise<void> = () => {};
  /** Makes the running container's networking again (set per run). */
  reload?: () => Promise<void>;

  constructor(dir: string) {
    ensureDir(dir);
    try {
      Deno.removeSync(`${dir}/${SOCKET}`);
    } catch { /* none left over */ }
    this.listener = inDir(
      dir,
      () => Deno.listen({ transport: "unix", path: SOCKET }),
    );
    this.accept();
  }

  private connected = Promise.withResolvers<void>();

  /** Resolves when the first client is there (or after `ms`). */
  async firstClient(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.connected.promise,
      new Promise((ok) => timer = setTimeout(ok, ms)),
    ]);
    clearTimeout(timer);
  }

  private async accept() {
    try {
      for await (const conn of this.listener) {
        this.clients.add(conn);
        this.serve(conn);
        this.connected.resolve();
      }
    } catch { /* closed */ }
  }

  private async serve(conn: Deno.UnixConn) {
    try {
      for await (const [kind, data] of frames(conn.readable)) {
        if (kind === RELOAD) {
          const why = await (this.reload ?? notRunning)().then(
            () => "",
            (e) => (e as Error).message,
          );
          await conn.write(frame(RELOAD, new TextEncoder().encode(why)));
          continue;
        }
        try {
          await this.input(kind, data);
        } catch { /* the container no longer reads: its input is dropped */ }
      }
    } catch { /* the client went away */ }
    this.clients.delete(conn);
  }

  /** Sends output to every client; a client that fails is dropped. */
  broadcast(kind: number, data: Uint8Array): Promise<unknown> {
    const f = frame(kind, data);
    return Promise.all(
      [...this.clients].map((conn) =>
        conn.write(f).catch(() => this.drop(conn))
      ),
    );
  }

  private drop(conn: Deno.UnixConn) {
    this.clients.delete(conn);
    try {
      conn.close();
    } catch { /* closed already */ }
  }

  /** Tells clients the exit code and ends every connection. */
  async close(exitCode: number): Promise<void> {
    await this.broadcast(EXIT, new Uint8Array([exitCode & 0xff]));
    this.listener.close();
    for (const conn of this.clients) this.drop(conn);
  }
}

function notRunning(): Promise<void> {
  return Promise.reject(new Error("the container is not running"));
}

/**
 * Asks the container's monitor to make its networking again; throws what
 * went wrong there.
 */
export async function reloadNetwork(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<void> {
  const conn = await openAttach(store, c);
  try {
    await conn.write(frame(RELOAD));
    for await (const [kind, data] of frames(conn.readable)) {
      if (kind !== RELOAD) continue;
      const why = new TextDecoder().decode(data);
      if (why) throw new Error(why);
      return;
    }
    throw new Error("the container's monitor went away");
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/**
 * Connects to the container's monitor; `waitMs` allows for a monitor that
 * is still starting.
 */
export async function openAttach(
  store: ContainerStore,
  c: ContainerConfig,
  waitMs = 0,
): Promise<Deno.UnixConn> {
  const end = Date.now() + waitMs;
  for (;;) {
    try {
      return await inDir(
        store.runDir(c.id),
        () => Deno.connect({ transport: "unix", path: SOCKET }),
      );
    } catch {
      if (Date.now() >= end) {
        throw conflict(
          `you cannot attach to a stopped container, start it first: ${c.id}`,
        );
      }
      await new Promise((ok) => setTimeout(ok, 20));
    }
  }
}

/** Sends our terminal's size, now and whenever it changes; returns the undo. */
function followSize(conn: Deno.UnixConn): () => void {
  const send = () => {
    try {
      const { rows, columns } = Deno.consoleSize();
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint16(0, rows);
      new DataView(b.buffer).setUint16(2, columns);
      conn.write(frame(RESIZE, b)).catch(() => {});
    } catch { /* not a terminal */ }
  };
  send();
  Deno.addSignalListener("SIGWINCH", send);
  return () => Deno.removeSignalListener("SIGWINCH", send);
}

/**
 * Relays the container's output here and, with `stdin`, our input there
 * (raw, for a -t container on a terminal) until the container ends (its
 * exit code, when the monitor said it) or the detach keys (`detachKeys`,
 * else the container's own, else ctrl-p,ctrl-q) are typed.
 */
export async function relayAttach(
  conn: Deno.UnixConn,
  c: ContainerConfig,
  stdin: boolean,
  detachKeys = c.host.detachKeys,
): Promise<{ detached: boolean; code?: number }> {
  const keys = parseDetachKeys(detachKeys);
  const raw = c.host.tty && stdin && Deno.stdin.isTerminal();
  if (raw) Deno.stdin.setRaw(true);
  const stopSize = c.host.tty ? followSize(conn) : () => {};
  // Our terminal may hang up before the container's exit code arrives.
  const ignore = () => {};
  Deno.addSignalListener("SIGHUP", ignore);
  let detached = false;
  let code: number | undefined;
  if (stdin) {
    (async () => {
      const held = { n: 0 };
      for await (const chunk of Deno.stdin.readable) {
        const { send, detach } = scanDetach(chunk, keys, held);
        if (send.length > 0) await conn.write(frame(STDIN, send));
        if (detach) {
          detached = true;
          conn.close();
          return;
        }
      }
      await conn.write(frame(STDIN_CLOSED));
    })().catch(() => {/* the container is gone */});
  }
  try {
    for await (const [kind, data] of frames(conn.readable)) {
      if (kind === EXIT) code = data[0];
      else (kind === STDERR ? Deno.stderr : Deno.stdout).writeSync(data);
    }
  } catch (e) {
    // The monitor closes its end with our last input unread: the kernel
    // answers with a reset, after the exit code it had sent.
    if (!detached && code === undefined) throw e;
  } finally {
    stopSize();
    Deno.removeSignalListener("SIGHUP", ignore);
    if (raw) Deno.stdin.setRaw(false);
  }
  return { detached, code };
}
