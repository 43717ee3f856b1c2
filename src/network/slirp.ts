/**
 * slirp4netns: a tap device in the container's namespace, its traffic
 * relayed through ordinary sockets of the user. Ports are published through
 * its API socket (`add_hostfwd`), which it binds in the runtime directory.
 */
import { type Helper, spawnHelper, stopHelper } from "./helper.ts";
import type { NetworkMode } from "./mode.ts";
import { PortInUseError, type PortMapping } from "./ports.ts";

const API_SOCKET = "slirp4netns.sock";

async function firstChunk(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return value ? new TextDecoder().decode(value) : "";
}

/**
 * One API call. The socket is reached through /proc/PID/cwd: the runtime
 * directory's own path can exceed the 108 bytes a socket address holds.
 */
async function api(
  pid: number,
  request: unknown,
): Promise<{ return?: unknown; error?: { desc: string } }> {
  const conn = await Deno.connect({
    transport: "unix",
    path: `/proc/${pid}/cwd/${API_SOCKET}`,
  });
  try {
    await conn.write(new TextEncoder().encode(JSON.stringify(request)));
    // One JSON reply, then slirp4netns may keep the connection open.
    let text = "";
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return JSON.parse(text);
      text += new TextDecoder().decode(buf.subarray(0, n));
      try {
        return JSON.parse(text);
      } catch { /* not whole yet */ }
    }
  } finally {
    conn.close();
  }
}

async function addForward(pid: number, m: PortMapping) {
  const r = await api(pid, {
    execute: "add_hostfwd",
    arguments: {
      proto: m.protocol,
      host_addr: m.hostIp || "0.0.0.0",
      host_port: m.hostPort,
      guest_port: m.containerPort,
    },
  });
  // slirp4netns says only "slirp_add_hostfwd failed": a bind that failed.
  if (r.error) throw new PortInUseError(m);
}

/**
 * Starts slirp4netns for the namespace of `pid` and publishes `ports`;
 * resolves once the interface is up and every port is bound.
 */
export async function startSlirp(
  pid: number,
  mode: NetworkMode,
  ports: PortMapping[],
  runDir: string,
): Promise<Helper> {
  const args = [
    "--configure",
    `--mtu=${mode.mtu || 65520}`,
    `--api-socket=${API_SOCKET}`,
    "--exit-fd=0",
    "--ready-fd=1",
  ];
  if (!mode.allowHostLoopback) args.push("--disable-host-loopback");
  const h = spawnHelper(
    "slirp4netns",
    [...args, String(pid), "tap0"],
    "slirp4netns",
    { cwd: runDir },
  );
  try {
    if (!(await firstChunk(h.child)).startsWith("1")) {
      await h.child.status;
      throw new Error(`slirp4netns failed: ${h.stderr() || "no reason given"}`);
    }
    for (const m of ports) await addForward(h.child.pid, m);
  } catch (e) {
    await stopSlirp(h, runDir);
    throw e;
  }
  return h;
}

/** Stops slirp4netns and removes the API socket it leaves behind. */
export async function stopSlirp(h: Helper, runDir: string): Promise<void> {
  await stopHelper(h);
  try {
    Deno.removeSync(`${runDir}/${API_SOCKET}`);
  } catch { /* never bound */ }
}
