/**
 * pasta (package passt): the container's interface copies the host's
 * address and routes, traffic is spliced through the user's sockets, ports
 * are published with -t/-u at start. pasta daemonizes once the namespace is
 * set up, so a small watchdog child ties the daemon to the parent's life.
 */
import { PASTA_DNS } from "./etc.ts";
import { type Helper, spawnHelper } from "./helper.ts";
import type { NetworkMode } from "./mode.ts";
import { PortInUseError, type PortMapping } from "./ports.ts";

/** The running daemon and its watchdog. */
export interface Pasta {
  pid: number;
  watchdog: Helper;
}

function portSpec(m: PortMapping): string {
  const ip = m.hostIp ? `${m.hostIp}/` : "";
  return `${ip}${m.hostPort}:${m.containerPort}`;
}

function forwardArgs(ports: PortMapping[], proto: "tcp" | "udp"): string[] {
  const flag = proto === "tcp" ? "-t" : "-u";
  const mine = ports.filter((m) => m.protocol === proto);
  // pasta's default ("auto") would publish whatever the container binds.
  if (mine.length === 0) return [flag, "none"];
  return mine.flatMap((m) => [flag, portSpec(m)]);
}

function lastLogLine(path: string): string {
  try {
    return Deno.readTextFileSync(path).trim().split("\n").at(-1) ?? "";
  } catch {
    return "";
  }
}

/** Whether a process exists (and is not a zombie). */
function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Starts pasta for the namespace of `pid`, with `ports` published. */
export async function startPasta(
  pid: number,
  mode: NetworkMode,
  ports: PortMapping[],
  runDir: string,
  ifname?: string,
): Promise<Pasta> {
  const pidFile = `${runDir}/pasta.pid`, log = `${runDir}/pasta.log`;
  const args = [
    "--config-net",
    "--quiet",
    "--log-file",
    log,
    "--pid",
    pidFile,
    "--dns-forward",
    PASTA_DNS,
    // Nothing of the host's own ports is forwarded into the container.
    "-T",
    "none",
    "-U",
    "none",
    ...forwardArgs(ports, "tcp"),
    ...forwardArgs(ports, "udp"),
  ];
  if (!mode.allowHostLoopback) args.push("--no-map-gw");
  if (mode.mtu) args.push("--mtu", String(mode.mtu));
  if (ifname) args.push("-I", ifname);
  const h = spawnHelper("pasta", [...args, String(pid)], "passt");
  const status = await h.child.status;
  if (!status.success) {
    const why = lastLogLine(log) || h.stderr();
    const bind = /Failed to bind any port for '-[tu] ([^']*)'/.exec(why);
    const m = bind && ports.find((p) => portSpec(p) === bind[1]);
    if (m) throw new PortInUseError(m);
    throw new Error(`pasta failed: ${why || `exit code ${status.code}`}`);
  }
  const daemon = Number(Deno.readTextFileSync(pidFile).trim());
  const watchdog = spawnHelper(
    "sh",
    ["-c", 'read _ || kill "$0"', String(daemon)],
    "dash",
  );
  return { pid: daemon, watchdog };
}

/**
 * Stops pasta and, with `wait` (it publishes ports, which a next start may
 * want at once; or its interface is made again), waits until it is gone.
 */
export async function stopPasta(p: Pasta, wait: boolean): Promise<void> {
  // The watchdog first, so it never signals a pid that was reused.
  try {
    p.watchdog.child.kill("SIGKILL");
  } catch { /* gone */ }
  await p.watchdog.child.status;
  try {
    Deno.kill(p.pid, "SIGTERM");
  } catch { /* gone */ }
  for (let i = 0; wait && i < 200 && alive(p.pid); i++) {
    await new Promise((ok) => setTimeout(ok, 10));
  }
}
