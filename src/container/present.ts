/**
 * A container as `inspect` shows it: Docker's field names and shape, plain
 * data for the CLI to print or template (`ps` rows are ps_row.ts's).
 */
import { dependencyIds } from "./dependencies.ts";
import {
  commandOf,
  type ContainerConfig,
  type ContainerState,
  hostnameOf,
} from "./config.ts";
import { monitorAlive } from "./liveness.ts";
import { inspectNetwork } from "./network.ts";
import { DEFAULT_SHM_SIZE } from "./limits.ts";
import { humanLogSize, keepsLog, logSource } from "./log_driver.ts";
import type { ContainerStore } from "./store.ts";
import type { VolumeStore } from "../volume/store.ts";
import { inspectMounts } from "./volumes.ts";
import { goMap, goStruct } from "../runtime/gomap.ts";
import { parseSignal } from "./signals.ts";
import { ipcTarget, type UsernsMode } from "./namespaces.ts";
import { inspectSecurityOpt } from "../security/options.ts";
import { defaultCgroupns } from "../cgroup/host.ts";
import { resolveCaps } from "../runtime/caps.ts";
import { userCapabilities } from "./confine.ts";

/** The OCI runtime spec version Podman 4.3 reports (its runtime-spec's). */
const OCI_VERSION = "1.0.2-dev";

/** Go's zero time in RFC 3339. */
const ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * --ipc/--pid/--uts as Podman shows them: container:ID for a container's,
 * else `own`.
 */
function sharedNsMode(
  store: ContainerStore,
  mode?: string,
  own = mode ?? "private",
): string {
  const target = ipcTarget(mode);
  if (target === undefined) return own;
  try {
    return `container:${store.find(target).id}`;
  } catch {
    return mode!;
  }
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
  const time = (iso: string) => iso || ZERO_TIME;
  return {
    Id: c.id,
    Created: c.created,
    Path: cmd[0],
    // Podman repeats a lone command as its argument.
    Args: cmd.length > 1 ? cmd.slice(1) : cmd,
    State: goStruct({
      OciVersion: OCI_VERSION,
      Status: running && s.paused ? "paused" : s.status,
      Running: running,
      Paused: running && !!s.paused,
      Restarting: s.status === "restarting",
      OOMKilled: !!s.oomKilled,
      Dead: false,
      Pid: running ? s.pid : 0,
      // Podman leaves a zero ConmonPid out.
      ...(running && s.monitorPid ? { ConmonPid: s.monitorPid } : {}),
      ExitCode: s.exitCode,
      Error: s.error ?? "",
      StartedAt: time(s.startedAt),
      FinishedAt: time(s.finishedAt),
      Health: s.health
        ? { ...s.health, Log: s.health.Log.length > 0 ? s.health.Log : null }
        : { Status: "", FailingStreak: 0, Log: null },
      CheckpointedAt: ZERO_TIME,
      RestoredAt: ZERO_TIME,
    }, "define.InspectContainerState"),
    Image: c.imageId,
    ImageDigest: c.imageDigest ?? "",
    ImageName: c.rootfs ? "" : c.image,
    Rootfs: c.rootfs ? c.image : "",
    Pod: c.host.pod ?? "",
    ...inspectPaths(store, c, s),
    Name: c.name,
    RestartCount: s.restartCount ?? 0,
    Driver: c.storageDriver ?? "overlay",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ...inspectCaps(c),
    ExecIDs: [],
    GraphDriver: graphDriver(store, c),
    Mounts: inspectMounts(volumes, c),
    Dependencies: dependencyIds(store, c),
    NetworkSettings: inspectNetwork(store, c, running),
    Namespace: "",
    IsInfra: false,
    IsService: false,
    Config: {
      Hostname: hostnameOf(c),
      Domainname: "",
      User: c.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: c.host.tty,
      OpenStdin: c.host.interactive,
      StdinOnce: false,
      Env: c.env,
      Cmd: c.cmd,
      Image: c.rootfs ? "" : c.image,
      Volumes: null,
      WorkingDir: c.workdir,
      // Podman 4.3 shows the entrypoint as one string.
      Entrypoint: c.entrypoint.join(" "),
      OnBuild: null,
      Labels: goMap(Object.keys(c.labels).length > 0 ? c.labels : null),
      Annotations: goMap(c.host.annotations ?? {}),
      // As Podman records os.Args: the executable's name, then the line.
      ...(c.createCommand
        ? { CreateCommand: ["ptd", ...c.createCommand] }
        : {}),
      StopSignal: signalNumber(c.host.stopSignal),
      StopTimeout: c.host.stopTimeout,
      ...(c.host.healthcheck ? { Healthcheck: c.host.healthcheck } : {}),
      HealthcheckOnFailureAction: c.host.healthOnFailure ?? "none",
      Umask: c.host.umask ?? "0022",
      Timeout: c.host.timeout ?? 0,
      Passwd: c.host.passwd ?? true,
      sdNotifyMode: c.host.sdnotify ?? "container",
      // Podman lists the mounted secrets only.
      ...(c.host.secrets?.some((u) => u.type === "mount")
        ? {
          Secrets: c.host.secrets.filter((u) => u.type === "mount").map((
            u,
          ) => ({
            Name: u.name,
            ID: u.id,
            UID: u.uid,
            GID: u.gid,
            Mode: u.mode,
          })),
        }
        : {}),
    },
    HostConfig: {
      Binds: (c.mounts ?? []).filter((m) =>
        m.type === "bind" || m.type === "volume"
      ).map((m) => `${m.source}:${m.destination}:${m.readonly ? "ro" : "rw"}`),
      LogConfig: {
        Type: c.host.logDriver ?? "k8s-file",
        Config: null,
        Path: keepsLog(c) ? logSource(store, c).path : "",
        Tag: c.host.logTag ?? "",
        Size: humanLogSize(c.host.logMaxSize),
      },
      // ptd's default stack is slirp4netns, which Podman names; named
      // networks are Podman's "bridge".
      NetworkMode: c.host.network === "private"
        ? "slirp4netns"
        : c.host.networkMode.kind === "bridge"
        ? "bridge"
        : c.host.network,
      PortBindings: inspectNetwork(store, c, false).Ports,
      // Podman 4.3 shows "shareable" for its own namespace, whatever --ipc
      // said (none included).
      IpcMode: c.host.ipc === "host"
        ? "host"
        : sharedNsMode(store, c.host.ipc, "shareable"),
      ShmSize: c.host.shmSize ?? DEFAULT_SHM_SIZE,
      Ulimits: (c.host.ulimits ?? []).map((u) => ({
        Name: `RLIMIT_${u.name.toUpperCase()}`,
        Soft: u.soft,
        Hard: u.hard,
      })),
      RestartPolicy: {
        Name: c.host.restartPolicy.name,
        MaximumRetryCount: c.host.restartPolicy.maximumRetryCount,
      },
      AutoRemove: c.host.autoRemove,
      CapAdd: c.host.capAdd,
      CapDrop: c.host.capDrop,
      Dns: c.host.dns?.servers ?? [],
      DnsOptions: c.host.dns?.options ?? [],
      DnsSearch: c.host.dns?.search ?? [],
      ExtraHosts: c.host.addHosts ?? [],
      GroupAdd: c.host.groupAdd,
      PidMode: sharedNsMode(store, c.host.pid),
      Privileged: c.host.privileged,
      ReadonlyRootfs: c.host.readOnly,
      SecurityOpt: inspectSecurityOpt(c.host),
      Tmpfs: goMap(Object.fromEntries(
        (c.mounts ?? []).filter((m) => m.type === "tmpfs").map((
          m,
        ) => [m.destination, m.data ?? ""]),
      )),
      UTSMode: sharedNsMode(store, c.host.uts),
      // Podman's spellings: "" for the user's own map, "private" for
      // another, ns:PATH for a joined one.
      UsernsMode: usernsMode(c.host.userns),
      ...(c.host.init ? { Init: true } : {}),
      ConsoleSize: [0, 0],
      ...inspectResources(c),
      ...UNSET_HOST_CONFIG,
    },
  };
}

/** The files of a container as Podman names them (conmon's: the monitor's). */
function inspectPaths(
  store: ContainerStore,
  c: ContainerConfig,
  s: ContainerState,
) {
  const run = store.runDir(c.id);
  return {
    ResolvConfPath: `${run}/resolv.conf`,
    HostnamePath: `${run}/hostname`,
    HostsPath: `${run}/hosts`,
    StaticDir: store.dir(c.id),
    // Podman has none until the container was first set up.
    ...(s.status === "created" ? {} : { OCIConfigPath: `${run}/spec.json` }),
    OCIRuntime: "ptd",
    // The monitor writes its pid in the run dir, as conmon does in userdata.
    ConmonPidFile: c.host.conmonPidFile ?? `${run}/monitor.pid`,
    PidFile: c.host.pidFile ?? "",
  };
}

/**
 * HostConfig's fields for what ptd has no option for, as Podman shows
 * them unset: a script reading one finds it, with its zero value.
 */
const UNSET_HOST_CONFIG = {
  ContainerIDFile: "",
  VolumeDriver: "",
  VolumesFrom: null,
  Cgroup: "",
  Links: null,
  PublishAllPorts: false,
  Runtime: "oci",
  Isolation: "",
  BlkioWeightDevice: null,
  BlkioDeviceReadBps: null,
  BlkioDeviceWriteBps: null,
  BlkioDeviceReadIOps: null,
  BlkioDeviceWriteIOps: null,
  CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0,
  DiskQuota: 0,
  KernelMemory: 0,
  MemorySwappiness: 0,
  OomKillDisable: false,
  CpuCount: 0,
  CpuPercent: 0,
  IOMaximumIOps: 0,
  IOMaximumBandwidth: 0,
  CgroupConf: null,
};

/**
 * The capability sets, as Podman shows them: the bounding set, and what
 * the container's user has of it (root all, another user its --cap-add).
 */
function inspectCaps(c: ContainerConfig) {
  const bounding = resolveCaps(
    c.host.capAdd,
    c.host.capDrop,
    c.host.privileged,
  ).toSorted();
  const root = ["", "0", "root"].includes(c.user.split(":")[0]);
  return {
    EffectiveCaps: root ? bounding : userCapabilities(c.host).toSorted(),
    BoundingCaps: bounding,
  };
}

/** The storage of the container's root, in containers/storage's terms. */
function graphDriver(store: ContainerStore, c: ContainerConfig) {
  if (c.storageDriver === "vfs" || c.rootfs) {
    return { Name: c.storageDriver ?? "overlay", Data: null };
  }
  const dir = store.dir(c.id);
  return {
    Name: "overlay",
    Data: {
      LowerDir: c.layers.join(":"),
      MergedDir: `${store.runDir(c.id)}/merged`,
      UpperDir: `${dir}/upper`,
      WorkDir: `${dir}/work`,
    },
  };
}

/** HostConfig's limits and cgroup settings, in Podman's names. */
function inspectResources(c: ContainerConfig): Record<string, unknown> {
  const r = c.host.resources ?? {};
  return {
    Memory: r.memory ?? 0,
    MemoryReservation: r.memoryReservation ?? 0,
    MemorySwap: r.memorySwap ?? (r.memory ? 2 * r.memory : 0),
    NanoCpus: r.nanoCpus ?? 0,
    CpuShares: r.cpuShares ?? 0,
    CpuPeriod: r.cpuPeriod ?? 0,
    CpuQuota: r.cpuQuota ?? 0,
    CpusetCpus: r.cpusetCpus ?? "",
    CpusetMems: r.cpusetMems ?? "",
    PidsLimit: r.pidsLimit ?? 0,
    BlkioWeight: r.blkioWeight ?? 0,
    OomScoreAdj: c.host.oomScoreAdj ?? 0,
    CgroupParent: c.host.cgroupParent ?? "",
    Cgroups: c.host.cgroups === "disabled" ? "disabled" : "default",
    // The manager chosen at create; none with --cgroups=disabled, where
    // Podman still names its configured one.
    CgroupManager: c.host.cgroupManager ?? "cgroupfs",
    CgroupMode: c.host.cgroupns ?? defaultCgroupns(),
    // Rootless Podman lists no device here: --device nodes are bound in,
    // not made, as ptd does too.
    Devices: [],
  };
}

function usernsMode(mode: UsernsMode | undefined): string {
  if (!mode || mode.kind === "host") return "";
  return mode.kind === "ns" ? `ns:${mode.path}` : "private";
}

/** A signal's number, 0 for one ptd does not know (inspect says so). */
function signalNumber(name: string): number {
  try {
    return parseSignal(name);
  } catch {
    return 0;
  }
}
