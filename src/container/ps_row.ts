/**
 * A container as `ps` shows it: Podman's ListContainer rows, the status
 * texts ("Up 3 seconds ago", "Exited (0) 2 seconds ago") and what a
 * --format template sees. Apart from the inspect document (present.ts),
 * so that `ps` loads none of the network, volume or security code that
 * inspect describes.
 */
import {
  commandOf,
  type ContainerConfig,
  type ContainerState,
  portsOf,
  userVolumes,
} from "./config.ts";
import { formatPorts, portRuns } from "../network/ports.ts";
import { goUnitsSize } from "../runtime/sizes.ts";
import {
  goMap,
  goStruct,
  goTimeString,
  humanDuration,
} from "../runtime/gomap.ts";

const since = (iso: string, now: number) =>
  humanDuration(now - Date.parse(iso));

/** Go's zero time in Unix seconds: what Podman says for "never". */
const NEVER = -62135596800;

const unix = (iso: string) => iso ? Math.floor(Date.parse(iso) / 1000) : NEVER;

/**
 * The STATUS column, as Podman's ps says it: "Up 3 seconds ago" (with
 * " (healthy)" and the like when it has a health check), "Exited (0) 2
 * seconds ago", otherwise the state with a capital ("Created").
 */
export function statusText(s: ContainerState, now = Date.now()): string {
  switch (s.status) {
    case "running":
      if (s.paused) return "Paused";
      return `Up ${since(s.startedAt, now)} ago${
        s.health?.Status ? ` (${s.health.Status})` : ""
      }`;
    case "exited":
      return `Exited (${s.exitCode}) ${since(s.finishedAt, now)} ago`;
    default:
      return s.status[0].toUpperCase() + s.status.slice(1);
  }
}

/** A published port as Podman's JSON has it (runs folded into a range). */
export interface PsPort {
  host_ip: string;
  container_port: number;
  host_port: number;
  range: number;
  protocol: string;
}

/** One `ps` entry: Podman's ListContainer, as `ps --format json` prints it. */
export interface PsRow {
  AutoRemove: boolean;
  Command: string[];
  /** How long ago it was created ("5 seconds ago"). */
  CreatedAt: string;
  Exited: boolean;
  /** Unix seconds, NEVER when it has not exited. */
  ExitedAt: number;
  ExitCode: number;
  Id: string;
  Image: string;
  ImageID: string;
  IsInfra: boolean;
  Labels: Record<string, string> | null;
  Mounts: string[];
  Names: string[];
  Namespaces: Record<string, string>;
  Networks: string[];
  Pid: number;
  Pod: string;
  PodName: string;
  Ports: PsPort[] | null;
  /** With `ps -s`: bytes the container wrote, and its image's. */
  Size: { rwSize: number; rootFsSize: number } | null;
  StartedAt: number;
  State: string;
  Status: string;
  /** Unix seconds. */
  Created: number;
}

/**
 * The namespaces of process `pid` as `ps --ns` gives them: each one's
 * inode number, in Podman's keys and order; none for no process.
 */
export function namespacesOf(pid: number): Record<string, string> {
  if (pid <= 0) return {};
  const kinds = [
    ["Mnt", "mnt"],
    ["Cgroup", "cgroup"],
    ["Ipc", "ipc"],
    ["Net", "net"],
    ["Pidns", "pid"],
    ["Uts", "uts"],
    ["User", "user"],
  ];
  const out: Record<string, string> = {};
  for (const [key, ns] of kinds) {
    try {
      // "net:[4026532470]" -> "4026532470"
      out[key] = /\[(\d+)\]/.exec(Deno.readLinkSync(`/proc/${pid}/ns/${ns}`))
        ?.[1] ?? "";
    } catch {
      return {};
    }
  }
  return out;
}

/** The `ps` entry of a container. */
export function psRow(
  c: ContainerConfig,
  s: ContainerState,
  now = Date.now(),
): PsRow {
  const running = s.status === "running";
  const ports = portRuns(portsOf(c)).map((r) => ({
    host_ip: r[0].hostIp,
    container_port: r[0].containerPort,
    host_port: r[0].hostPort,
    range: r.length,
    protocol: r[0].protocol,
  }));
  return {
    AutoRemove: c.host.autoRemove,
    Command: commandOf(c),
    CreatedAt: `${since(c.created, now)} ago`,
    Exited: s.status === "exited",
    ExitedAt: s.status === "exited" ? unix(s.finishedAt) : NEVER,
    ExitCode: s.exitCode,
    Id: c.id,
    Image: c.rootfs ? "" : c.image,
    ImageID: c.imageId,
    IsInfra: false,
    Labels: Object.keys(c.labels).length > 0 ? c.labels : null,
    Mounts: userVolumes(c),
    Names: [c.name],
    Namespaces: {},
    Networks: c.host.networkMode.networks?.map((n) => n.name) ?? [],
    Pid: running ? s.pid : 0,
    Pod: c.host.pod ?? "",
    PodName: "",
    Ports: ports.length > 0 ? ports : null,
    Size: null,
    StartedAt: s.startedAt ? unix(s.startedAt) : NEVER,
    State: s.paused ? "paused" : s.status,
    Status: statusText(s, now),
    Created: unix(c.created),
  };
}

/**
 * What a `ps --format` template sees: Podman's psReporter, the entry's
 * fields with its methods' values (short ids unless `noTrunc`, the
 * command as one string, times as Go prints them).
 */
export function psView(r: PsRow, noTrunc: boolean): Record<string, unknown> {
  const id = (x: string) => noTrunc ? x : x.slice(0, 12);
  const cmd = r.Command.join(" ");
  const created = goTimeString(new Date(r.Created * 1000).toISOString());
  const n = r.Namespaces;
  const ns = goStruct({
    Cgroup: n.Cgroup ?? "",
    IPC: n.Ipc ?? "",
    MNT: n.Mnt ?? "",
    NET: n.Net ?? "",
    PIDNS: n.Pidns ?? "",
    User: n.User ?? "",
    UTS: n.Uts ?? "",
  }, "entities.ListContainerNamespaces");
  return goStruct({
    AutoRemove: r.AutoRemove,
    Command: noTrunc || cmd.length <= 17 ? cmd : `${cmd.slice(0, 17)}...`,
    Created: created,
    CreatedAt: created,
    CreatedHuman: r.CreatedAt,
    Exited: r.Exited,
    ExitedAt: r.ExitedAt,
    ExitCode: r.ExitCode,
    ID: id(r.Id),
    Image: r.Image,
    ImageID: id(r.ImageID),
    IsInfra: r.IsInfra,
    Labels: goMap(r.Labels),
    Mounts: r.Mounts,
    Names: r.Names[0],
    Namespaces: ns,
    Networks: r.Networks.join(","),
    Pid: r.Pid,
    Pod: id(r.Pod),
    PodName: r.PodName,
    Ports: formatPorts(
      (r.Ports ?? []).flatMap((p) =>
        [...Array(p.range).keys()].map((i) => ({
          hostIp: p.host_ip,
          hostPort: p.host_port + i,
          containerPort: p.container_port + i,
          protocol: p.protocol as "tcp" | "udp",
        }))
      ),
    ),
    RunningFor: r.CreatedAt,
    Size: r.Size
      ? `${goUnitsSize(r.Size.rwSize, 3)} (virtual ${
        goUnitsSize(r.Size.rootFsSize, 3)
      })`
      : "",
    StartedAt: r.StartedAt,
    State: r.Status,
    Status: r.Status,
    ...ns,
  }, "containers.psReporter");
}
