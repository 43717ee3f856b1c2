/**
 * --sdnotify: how a container under a systemd `Type=notify` unit tells
 * systemd it is ready. The parent (monitor or foreground run) is the unit's
 * main process (MAINPID): the container itself lives in a cgroup of its own,
 * whose messages systemd would not take for the unit's. `conmon`: the
 * parent says READY=1 once the container runs. `container` (the default):
 * the container gets a socket of the parent's at /run/notify/notify.sock
 * (NOTIFY_SOCKET), and the parent relays what it sends, as conmon does.
 * `ignore`: nothing is sent. Without NOTIFY_SOCKET there is nobody to tell.
 */
import { closeFd } from "../../ffi/fd.ts";
import {
  receiveFrom,
  sendTo,
  sockaddrUn,
  unixDatagram,
} from "../../ffi/socket.ts";
import { invalid } from "../runtime/errors.ts";
import type { RuntimeSpec } from "../runtime/spec.ts";

/** --sdnotify's modes. */
export type SdNotifyMode = "container" | "conmon" | "ignore";

/** --sdnotify with Podman's error. */
export function parseSdNotify(text: string): SdNotifyMode {
  if (!["container", "conmon", "ignore"].includes(text)) {
    throw invalid(
      `--sdnotify values must be one of "container", "conmon", or "ignore"`,
    );
  }
  return text as SdNotifyMode;
}

/** Where the container finds the relay socket. */
const INSIDE = "/run/notify";

/** One container's link to systemd, for the life of its parent. */
export class SdNotify {
  #fd = unixDatagram();
  #to: Uint8Array<ArrayBuffer>;
  #relay?: number;

  private constructor(socket: string, readonly mode: SdNotifyMode) {
    this.#to = sockaddrUn(socket);
  }

  /** The link for mode `mode` (default container); none without a socket. */
  static open(mode: SdNotifyMode = "container"): SdNotify | undefined {
    const socket = Deno.env.get("NOTIFY_SOCKET");
    if (!socket || mode === "ignore") return undefined;
    return new SdNotify(socket, mode);
  }

  send(text: string): void {
    sendTo(this.#fd, new TextEncoder().encode(text), this.#to);
  }

  /**
   * Before a start in `container` mode: the relay socket in `runDir`, bound
   * into the container with NOTIFY_SOCKET pointing at it.
   */
  prepare(spec: RuntimeSpec, runDir: string): void {
    if (this.mode !== "container") return;
    const dir = `${runDir}/notify`;
    if (this.#relay === undefined) {
      Deno.mkdirSync(dir, { recursive: true });
      try {
        Deno.removeSync(`${dir}/notify.sock`);
      } catch { /* not there */ }
      // A socket path holds at most 107 bytes, and a run dir can be longer:
      // bind it by a relative name (this is synchronous, so nothing else
      // runs in the other directory).
      const cwd = Deno.cwd();
      Deno.chdir(dir);
      try {
        this.#relay = unixDatagram("notify.sock");
      } finally {
        Deno.chdir(cwd);
      }
      // Whoever the container runs as may write to it.
      Deno.chmodSync(dir, 0o755);
      Deno.chmodSync(`${dir}/notify.sock`, 0o777);
      this.#pump(this.#relay);
    }
    spec.mounts.push({
      type: "bind",
      source: dir,
      destination: INSIDE,
      readonly: false,
    });
    spec.process.env.push(`NOTIFY_SOCKET=${INSIDE}/notify.sock`);
  }

  /** The container runs: the parent is the main process; conmon mode is ready. */
  started(): void {
    this.send(
      `MAINPID=${Deno.pid}${this.mode === "conmon" ? "\nREADY=1" : ""}`,
    );
  }

  /** Relays the container's messages, less any MAINPID of its own. */
  async #pump(fd: number) {
    const buf = new Uint8Array(4096);
    for (let got; (got = await receiveFrom(fd, buf)) !== null;) {
      const lines = new TextDecoder().decode(buf.subarray(0, got.n))
        .split("\n").filter((l) => l && !l.startsWith("MAINPID="));
      if (lines.length > 0) this.send(lines.join("\n"));
    }
  }

  close(): void {
    closeFd(this.#fd);
    if (this.#relay !== undefined) closeFd(this.#relay);
  }
}
