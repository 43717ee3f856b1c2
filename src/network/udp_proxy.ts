/**
 * Published UDP ports without slirp4netns's port forwarding. libslirp sends
 * a container's reply to a client on the host's 127.0.0.1 towards its
 * gateway address, which --disable-host-loopback drops: UDP to a loopback
 * client never answered. So, as Podman's rootlessport does, a proxy serves
 * those ports: the parent binds each host port in the host's namespace, and
 * `ptd udp-proxy`, started inside the container's user and network
 * namespaces (the join routine), relays between those sockets and one
 * socket per client of its own in the container's namespace, which the
 * container's replies come back to.
 */
import {
  type ClonedChild,
  cloneExec,
  environ,
  waitStatus,
} from "../../ffi/clone.ts";
import { SIGKILL } from "../../ffi/constants.ts";
import { SysError } from "../../ffi/errno.ts";
import { closeFd, inheritablePipe, setCloexec } from "../../ffi/fd.ts";
import { readFd } from "../../ffi/pty.ts";
import { receiveFrom, sendTo, udpBound } from "../../ffi/socket.ts";
import { libc } from "../../ffi/libc.ts";
import { joinFds } from "../runtime/netns.ts";
import { selfCommand } from "../runtime/self.ts";
import { PortInUseError, type PortMapping } from "./ports.ts";
import type { Socket } from "node:dgram";

/** The hidden subcommand of the proxy. */
export const UDP_PROXY_COMMAND = "udp-proxy";

/** A running proxy; `stop()` frees its host ports. */
export interface UdpProxy {
  stop(): Promise<void>;
}

function bindAll(ports: PortMapping[]): number[] {
  const fds: number[] = [];
  try {
    for (const m of ports) {
      try {
        fds.push(udpBound(m.hostIp || "0.0.0.0", m.hostPort));
      } catch (e) {
        if (e instanceof SysError && e.code === "EADDRINUSE") {
          throw new PortInUseError(m);
        }
        throw e;
      }
    }
  } catch (e) {
    fds.forEach(closeFd);
    throw e;
  }
  return fds;
}

/**
 * Binds `ports` on the host and starts the proxy in the namespaces of
 * `pid`, relaying to `containerIp`. Throws PortInUseError for a taken port.
 */
export async function startUdpProxy(
  pid: number,
  ports: PortMapping[],
  containerIp: string,
): Promise<UdpProxy> {
  const fds = bindAll(ports);
  // The proxy exits when this pipe's write end, ours alone, closes.
  const [alive, keep] = inheritablePipe();
  setCloexec(keep);
  const join = joinFds(`/proc/${pid}/ns/net`);
  const self = selfCommand();
  let child: ClonedChild;
  try {
    child = await cloneExec({
      flags: 0,
      path: self.path,
      argv: [
        self.path,
        ...self.args,
        UDP_PROXY_COMMAND,
        containerIp,
        String(alive),
        ...ports.map((m, i) => `${fds[i]}:${m.containerPort}`),
      ],
      env: environ(),
      join: join.fds,
    });
  } catch (e) {
    closeFd(keep);
    throw e;
  } finally {
    // The proxy has its copies now (or there is none).
    [...fds, alive, ...join.fds].forEach(closeFd);
  }
  child.release();
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        closeFd(keep);
        libc().kill(child.pid, SIGKILL);
        await waitStatus(child.pid);
      })();
      return stopped;
    },
  };
}

const IDLE_MS = 60_000;

/** Relays one host socket's clients to `port` of the container. */
async function serve(hostFd: number, ip: string, port: number) {
  // node:dgram sets up Deno's Node layer: only the proxy pays for it.
  const { default: dgram } = await import("node:dgram");
  const clients = new Map<string, { sock: Socket; last: number }>();
  setInterval(() => {
    const old = Date.now() - IDLE_MS;
    for (const [k, c] of clients) {
      if (c.last < old) {
        c.sock.close();
        clients.delete(k);
      }
    }
  }, IDLE_MS);
  const buf = new Uint8Array(65536);
  for (let r; (r = await receiveFrom(hostFd, buf)) !== null;) {
    const key = r.from.join(",");
    let c = clients.get(key);
    if (!c) {
      const from = r.from;
      const sock = dgram.createSocket("udp4");
      sock.on("message", (m) => void sendTo(hostFd, new Uint8Array(m), from));
      c = { sock, last: 0 };
      clients.set(key, c);
    }
    c.last = Date.now();
    c.sock.send(buf.slice(0, r.n), port, ip);
  }
}

/** Entry of `ptd udp-proxy IP ALIVE-FD HOSTFD:PORT...` (in the netns). */
export async function udpProxyMain(args: string[]): Promise<number> {
  const [ip, alive, ...maps] = args;
  for (const m of maps) {
    const [fd, port] = m.split(":").map(Number);
    serve(fd, ip, port).catch(() => Deno.exit(1));
  }
  // EOF: the parent is gone, and with it the container's network.
  await readFd(Number(alive), new Uint8Array(1));
  return 0;
}
