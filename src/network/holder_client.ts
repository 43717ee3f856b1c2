/**
 * Reaching the network holder (holder.ts) and starting it when it is not
 * there. The holder lives in a user namespace of its own, so something in
 * the host's namespaces must clone it, write its maps and give it
 * slirp4netns (the way out for the DNS server's forwarded questions):
 * `ptd network-daemon DIR`, started detached, its parent for life. The
 * holder dies with it (parent-death signal), and slirp4netns with it
 * (--exit-fd), so a kill -9 of either leaves only a socket file, which the
 * next start replaces.
 */
import { cloneExec, environ, exitCode, waitStatus } from "../../ffi/clone.ts";
import { CLONE_NEWNET, CLONE_NEWUSER } from "../../ffi/constants.ts";
import {
  closeFd,
  dupOnto,
  isInherited,
  newSession,
  openRaw,
} from "../../ffi/fd.ts";
import { readText, spawn } from "../../ffi/spawn.ts";
import { userMaps } from "../runtime/create.ts";
import { writeIdMaps } from "../runtime/idmap.ts";
import { selfCommand } from "../runtime/self.ts";
import { withLock } from "../storage/json.ts";
import { ensureDir } from "../storage/paths.ts";
import { HOLDER_COMMAND, type HolderRequest } from "./holder.ts";
import { startSlirp, stopSlirp } from "./slirp.ts";

/** The hidden subcommand of the holder's parent. */
export const DAEMON_COMMAND = "network-daemon";

const SOCKET = "holder.sock";
const LOG = "holder.log";

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

/**
 * Entry of `ptd network-daemon DIR [USERNS]`: starts the holder in new
 * user and network namespaces (or, given USERNS, in a new network
 * namespace of that user namespace) with slirp4netns, and lives as long
 * as it does.
 */
export async function daemonMain(args: string[]): Promise<number> {
  const [dir, userns] = args;
  newSession();
  // The starter's descriptors (a container's output pipes, whose EOF its
  // monitor waits for) must not live on in us and the holder.
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(e.name);
    if (fd > 2 && isInherited(fd)) closeFd(fd);
  }
  Deno.chdir(dir);
  // What the holder and `ip` say goes to the log, for the starter's error.
  Deno.writeTextFileSync(`${dir}/${LOG}`, "", { mode: 0o600 });
  dupOnto(openRaw(`${dir}/${LOG}`, "readwrite"), 2);
  const self = selfCommand();
  // The user namespace to join is held open until the child is in it.
  const join = userns ? openRaw(userns) : undefined;
  let child;
  try {
    child = await cloneExec({
      flags: join === undefined ? CLONE_NEWUSER | CLONE_NEWNET : CLONE_NEWNET,
      path: self.path,
      argv: [self.path, ...self.args, HOLDER_COMMAND, `${dir}/${SOCKET}`],
      env: environ(),
      join: join === undefined ? undefined : [join],
    });
  } finally {
    if (join !== undefined) closeFd(join);
  }
  let slirp;
  try {
    if (join === undefined) await writeIdMaps(child.pid, userMaps());
    slirp = await startSlirp(
      child.pid,
      { kind: "slirp4netns", allowHostLoopback: false, mtu: 0 },
      [],
      dir,
    );
  } catch (e) {
    child.abort();
    await waitStatus(child.pid);
    console.error(`network daemon: ${(e as Error).message}`);
    return 1;
  }
  child.release();
  // The holder answers the starter; our copy of its pipe must not hold it.
  dupOnto(0, 1);
  const code = exitCode(await waitStatus(child.pid));
  await stopSlirp(slirp, dir);
  return code;
}
