/**
 * The attach socket: the monitor serves the container's output and takes
 * its input on a unix socket in the container's runtime directory; `ptd
 * attach` connects to it. Frames are [kind u8][length u32 BE][bytes]:
 * output kinds are 1 (stdout) and 2 (stderr); input kinds are 0 (stdin
 * bytes) and 3 (stdin closed).
 */
import { ensureDir } from "../storage/paths.ts";
import type { ContainerConfig } from "./config.ts";
import type { ContainerStore } from "./store.ts";

/** Frame kinds. */
export const STDIN = 0, STDOUT = 1, STDERR = 2, STDIN_CLOSED = 3;

/** Docker's default detach keys: ctrl-p, ctrl-q. */
export const DETACH_KEYS = [0x10, 0x11];

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
  /** Where input from clients goes (set per run of the container). */
  input: (kind: number, data: Uint8Array<ArrayBuffer>) => void = () => {};

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

  private async accept() {
    try {
      for await (const conn of this.listener) {
        this.clients.add(conn);
        this.serve(conn);
      }
    } catch { /* closed */ }
  }

  private async serve(conn: Deno.UnixConn) {
    try {
      for await (const [kind, data] of frames(conn.readable)) {
        this.input(kind, data);
      }
    } catch { /* the client went away */ }
    this.clients.delete(conn);
  }

  /** Sends output to every client; a client that fails is dropped. */
  broadcast(kind: number, data: Uint8Array): void {
    const f = frame(kind, data);
    for (const conn of this.clients) {
      conn.write(f).catch(() => this.drop(conn));
    }
  }

  private drop(conn: Deno.UnixConn) {
    this.clients.delete(conn);
    try {
      conn.close();
    } catch { /* closed already */ }
  }

  /** Ends every connection: the container is gone for good. */
  close(): void {
    this.listener.close();
    for (const conn of this.clients) this.drop(conn);
  }
}

/**
 * Splits input at the detach keys: the bytes to send, and whether the
 * sequence was typed (`held` carries a partial sequence between chunks).
 */
export function scanDetach(
  chunk: Uint8Array,
  keys: number[],
  held: { n: number },
): { send: Uint8Array; detach: boolean } {
  const out: number[] = [];
  for (const b of chunk) {
    if (b === keys[held.n]) {
      held.n++;
      if (held.n === keys.length) {
        return { send: new Uint8Array(out), detach: true };
      }
      continue;
    }
    out.push(...keys.slice(0, held.n));
    held.n = 0;
    if (b === keys[0]) held.n = 1;
    else out.push(b);
  }
  return { send: new Uint8Array(out), detach: false };
}

/**
 * `ptd attach`: relays the container's output here and, with `stdin`, our
 * input there until the container ends (true) or the detach keys are
 * typed (false).
 */
export async function attachContainer(
  store: ContainerStore,
  c: ContainerConfig,
  stdin: boolean,
): Promise<boolean> {
  let conn: Deno.UnixConn;
  try {
    conn = await inDir(
      store.runDir(c.id),
      () => Deno.connect({ transport: "unix", path: SOCKET }),
    );
  } catch {
    throw new Error(
      `you cannot attach to a stopped container, start it first: ${c.id}`,
    );
  }
  let detached = false;
  if (stdin) {
    (async () => {
      const held = { n: 0 };
      for await (const chunk of Deno.stdin.readable) {
        const { send, detach } = scanDetach(chunk, DETACH_KEYS, held);
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
      (kind === STDERR ? Deno.stderr : Deno.stdout).writeSync(data);
    }
  } catch (e) {
    if (!detached) throw e;
  }
  return !detached;
}
