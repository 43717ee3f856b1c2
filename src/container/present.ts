/**
 * How containers are shown: Docker's ps rows and status texts ("Up 3
 * seconds", "Exited (0) 2 seconds ago") and the inspect document. Plain data
 * for the CLI to print or template.
 */
import {
  commandOf,
  type ContainerConfig,
  type ContainerState,
  hostnameOf,
} from "./config.ts";
import { monitorAlive } from "./liveness.ts";
import { inspectNetwork, psPorts } from "./network.ts";
import type { ContainerStore } from "./store.ts";
import type { VolumeStore } from "../volume/store.ts";
import { inspectMounts, mountNames } from "./volumes.ts";

/** Docker's (go-units) HumanDuration of `ms` milliseconds. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  const h = Math.round(m / 60);
  if (h === 1) return "About an hour";
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

const since = (iso: string, now: number) =>
  humanDuration(now - Date.parse(iso));

/** The STATUS column: Created, Up 3 seconds ago, Exited (0) 2 seconds ago. */
export function statusText(s: ContainerState, now = Date.now()): string {
  switch (s.status) {
    case "running":
      return `Up ${since(s.startedAt, now)} ago`;
    case "restarting":
      return `Restarting (${s.exitCode}) ${since(s.finishedAt, now)} ago`;
    case "exited":
      return `Exited (${s.exitCode}) ${since(s.finishedAt, now)} ago`;
    default:
      return "Created";
  }
}

/** One `ps` row, with Docker's --format field names. */
export interface PsRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Ports: string;
  State: string;
  Status: string;
  Names: string;
  Labels: string;
  Mounts: string;
  Networks: string;
}

/** The `ps` row of a container; `full` keeps ids and commands untruncated. */
export function psRow(
  c: ContainerConfig,
  s: ContainerState,
  full: boolean,
  now = Date.now(),
): PsRow {
  // Podman's COMMAND: unquoted, cut to 17 characters and "...".
  let cmd = commandOf(c).join(" ");
  if (!full && cmd.length > 17) cmd = `${cmd.slice(0, 17)}...`;
  return {
    ID: full ? c.id : c.id.slice(0, 12),
    Image: c.image,
    Command: cmd,
    CreatedAt: c.created,
    RunningFor: `${since(c.created, now)} ago`,
    // Docker lists the ports only while they are published.
    Ports: s.status === "running" ? psPorts(c) : "",
    State: s.status,
    Status: statusText(s, now),
    Names: c.name,
    Labels: Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(","),
    Mounts: mountNames(c),
    Networks: c.host.network,
  };
}

/** The container as `inspect` shows it: Docker's field names and shape. */
export function inspectDoc(
  store: ContainerStore,
  volumes: VolumeStore,
  c: ContainerConfig,
  s: ContainerState,
): Record<string, unknown> {
  const cmd = commandOf(c);
  const running = s.status === "running" && monitorAlive(s);
  return {
    Id: c.id,
    Created: c.created,
    Path: cmd[0],
    Args: cmd.slice(1),
    State: {
      Status: s.status,
      Running: running,
      Paused: false,
      Restarting: s.status === "restarting",
      OOMKilled: false,
      Dead: false,
      Pid: running ? s.pid : 0,
      ExitCode: s.exitCode,
      Error: s.error ?? "",
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
    },
    Image: c.imageId || c.image,
    ImageName: c.image,
    Name: c.name,
    RestartCount: s.restartCount ?? 0,
    Driver: "overlay",
    LogPath: store.logFile(c.id),
    Mounts: inspectMounts(volumes, c),
    HostConfig: {
      AutoRemove: c.host.autoRemove,
      NetworkMode: c.host.network,
      Privileged: c.host.privileged,
      ReadonlyRootfs: c.host.readOnly,
      CapAdd: c.host.capAdd,
      CapDrop: c.host.capDrop,
      GroupAdd: c.host.groupAdd,
      RestartPolicy: {
        Name: c.host.restartPolicy.name,
        MaximumRetryCount: c.host.restartPolicy.maximumRetryCount,
      },
    },
    Config: {
      Hostname: hostnameOf(c),
      User: c.user,
      Env: c.env,
      Cmd: c.cmd,
      Entrypoint: c.entrypoint,
      Image: c.image,
      WorkingDir: c.workdir,
      Labels: c.labels,
      Tty: c.host.tty,
      OpenStdin: c.host.interactive,
      StopSignal: c.host.stopSignal,
      StopTimeout: c.host.stopTimeout,
    },
    NetworkSettings: inspectNetwork(store, c, running),
  };
}
