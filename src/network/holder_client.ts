/**
 * Reaching the network holder (holder.ts) and starting it when it is not
 * there, through `ptd network-daemon` (daemon.ts). What every container on
 * a network loads: the daemon's own code stays out of it.
 */
import { waitStatus } from "../../ffi/clone.ts";
import { readText, spawn } from "../../ffi/spawn.ts";
import { selfCommand } from "../runtime/self.ts";
import { withLock } from "../storage/json.ts";
import { ensureDir } from "../storage/paths.ts";
import type { HolderRequest } from "./holder.ts";

/** The hidden subcommand of the holder's parent (daemon.ts). */
export const DAEMON_COMMAND = "network-daemon";

/** The holder's socket and log, in the store's runtime network dir. */
export const SOCKET = "holder.sock";
export const LOG = "holder.log";

/** An open connection to the holder; one request at a time. */
export class HolderConnection {
  #buf = "";

  constructor(readonly conn: Deno.UnixConn, public pid = 0) {}

  /** The holder's user namespace, which containers on networks join. */
  get userns(): string {
    return `/proc/${this.pid}/ns/user`;
  }

  /** Sends one request and returns its answer; throws its error. */
  async request<T>(req: HolderRequest): Promise<T> {
    await this.conn.write(new TextEncoder().encode(JSON.stringify(req) + "\n"));
    const buf = new Uint8Array(65536);
    while (!this.#buf.includes("\n")) {
      const n = await this.conn.read(buf);
      if (n === null) throw new Error("the network holder went away");
      this.#buf += new TextDecoder().decode(buf.subarray(0, n));
    }
    const i = this.#buf.indexOf("\n");
    const reply = JSON.parse(this.#buf.slice(0, i));
    this.#buf = this.#buf.slice(i + 1);
    if (!reply.ok) throw new Error(reply.error);
    return reply as T;
  }

  close() {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

async function tryConnect(path: string): Promise<HolderConnection | undefined> {
  let conn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch {
    return undefined;
  }
  const h = new HolderConnection(conn);
  try {
    h.pid = (await h.request<{ pid: number }>({ op: "hello" })).pid;
    return h;
  } catch {
    h.close();
    return undefined;
  }
}

function logTail(dir: string): string {
  try {
    const lines = Deno.readTextFileSync(`${dir}/${LOG}`).trim().split("\n");
    return lines.at(-1) ?? "";
  } catch {
    return "";
  }
}

/** Which namespace the file at `path` is ("dev:ino"). */
function nsIdentity(path: string): string {
  const st = Deno.statSync(path);
  return `${st.dev}:${st.ino}`;
}

/**
 * A connection to the holder of the store whose runtime directory is
 * `runtime`, started if need be. With `userns` (a running container's,
 * for network reload), the holder must be one of that user namespace: a
 * holder started now joins it rather than making a new one, so the
 * container's veths can be made again.
 */
export async function connectHolder(
  runtime: string,
  userns?: string,
): Promise<HolderConnection> {
  const dir = ensureDir(`${runtime}/network`);
  const path = `${dir}/${SOCKET}`;
  const checked = (h: HolderConnection) => {
    if (userns && nsIdentity(h.userns) !== nsIdentity(userns)) {
      h.close();
      throw new Error(
        "the network holder was started again for other containers: restart this one to put it back on its networks",
      );
    }
    return h;
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const h = await tryConnect(path);
    if (h) return checked(h);
    await withLock(`${dir}/lock`, async () => {
      // Another command may have started it while we waited for the lock.
      const other = await tryConnect(path);
      if (other) return other.close();
      const self = selfCommand();
      const child = spawn(
        [
          ...[self.path, ...self.args],
          DAEMON_COMMAND,
          dir,
          ...(userns ? [userns] : []),
        ],
        1,
      );
      // Reaped when it ends; a pending wait does not keep us alive.
      waitStatus(child.pid).catch(() => {});
      const line = await readText(child.output!, true);
      if (line !== "ready") {
        throw new Error(
          `the network holder did not start: ${
            logTail(dir) || "no reason given"
          }`,
        );
      }
    });
  }
  throw new Error("the network holder does not answer");
}
