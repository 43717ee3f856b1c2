/**
 * The record of one container, as ptd keeps it on disk. Field names follow
 * what `ptd inspect` shows (Docker's shape) where that costs nothing.
 */
import type { CgroupSettings } from "../cgroup/policy.ts";
import type { DnsConfig } from "../network/etc.ts";
import type { NetworkMode } from "../network/mode.ts";
import type { PortMapping } from "../network/ports.ts";
import type { RootSource } from "../storage/root_source.ts";
import type { DeviceMapping } from "./devices.ts";
import type {
  HealthAction,
  HealthConfig,
  HealthState,
} from "./health_config.ts";
import type { Ulimit } from "./limits.ts";
import type { SdNotifyMode } from "./sdnotify.ts";
import type { IpcMode, UsernsMode } from "./namespaces.ts";
import type { SharedNsMode } from "./shared_ns.ts";
import type { SecretUse } from "../secret/use.ts";

/** What the user asked for: fixed when the container is created. */
export interface ContainerConfig extends Omit<RootSource, "volumes"> {
  id: string;
  name: string;
  created: string;
  hostname: string;
  labels: Record<string, string>;
  host: HostConfig;
  /** "vfs": the root is a full copy of the layers (vfsRoot); absent: overlay. */
  storageDriver?: "vfs";
  /** Volumes, binds and tmpfs mounts; absent in records older than them. */
  mounts?: ContainerMount[];
  /** The ptd command line that created it, without the executable. */
  createCommand?: string[];
  /**
   * A build's RUN step: `ps` lists it only with --external, as Podman's
   * buildah containers; the next build removes it if its build died.
   */
  build?: boolean;
}

/** A mount of the container: from -v, --mount, --tmpfs or an image VOLUME. */
export interface ContainerMount {
  type: "bind" | "volume" | "tmpfs" | "devpts" | "image";
  /**
   * The host path (bind), the volume's name (volume), the image's
   * reference (image) or "" (tmpfs, devpts).
   */
  source: string;
  /** Absolute and clean, inside the container. */
  destination: string;
  readonly: boolean;
  /** A volume named by ptd for this container alone: `rm -v` removes it. */
  anonymous?: boolean;
  /** Do not fill an empty volume from the image. */
  noCopy?: boolean;
  /** tmpfs or devpts mount data, e.g. "size=64m,mode=1777". */
  data?: string;
  /** image: its layer directories, top first (found at create). */
  layers?: string[];
}

/**
 * Settings of how the container runs on the host; its cgroup settings
 * (limits, --cgroups, --cgroup-parent) are src/cgroup's.
 */
export interface HostConfig extends CgroupSettings {
  autoRemove: boolean;
  interactive: boolean;
  tty: boolean;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  noNewPrivileges: boolean;
  /**
   * The seccomp profile: a file, or "unconfined"; absent in records older
   * than seccomp (no filter). Compiled at create (or found compiled).
   */
  seccompProfile?: string;
  /**
   * The compiled program, a file of the store's cache that is never
   * changed (named after the profile's digest and the container's
   * capabilities); absent in records that have their own copy in the
   * container's directory (seccomp.bpf).
   */
  seccompProgram?: string;
  /** --security-opt mask=: paths masked besides the default ones. */
  mask?: string[];
  /** --security-opt unmask=: default masked paths left visible, or "ALL". */
  unmask?: string[];
  /** --security-opt values as given, for inspect. */
  securityOpt?: string[];
  readOnly: boolean;
  /**
   * A --network value: "private" (the default stack), "slirp4netns[:OPTS]",
   * "pasta[:OPTS]", "host", "none", "container:NAME|ID" (found by name at
   * each start) or "ns:PATH" (see src/network/mode.ts). As given, for
   * inspect: what ptd acts on is `networkMode`.
   */
  network: string;
  /** `network` parsed, once, when the container was created. */
  networkMode: NetworkMode;
  /** Published ports, host ports already picked at create time. */
  ports?: PortMapping[];
  /** --dns, --dns-search, --dns-option; empty lists keep the defaults. */
  dns?: DnsConfig;
  /** --add-host values, "NAME:IP". */
  addHosts?: string[];
  groupAdd: string[];
  restartPolicy: RestartPolicy;
  /** --init: a reaper (catatonit) is PID 1 and runs the command. */
  init?: boolean;
  /** containers.conf init_path: the reaper --init binds; absent, catatonit. */
  initPath?: string;
  /**
   * containers.conf base_hosts_file: the file whose entries start
   * /etc/hosts, or "none"; absent, the host's /etc/hosts.
   */
  baseHostsFile?: string;
  /** k8s-file (absent), json-file (Docker's format), none or passthrough. */
  logDriver?: string;
  /** Signal `stop` sends first, e.g. "SIGTERM". */
  stopSignal: string;
  /** Seconds `stop` waits before SIGKILL. */
  stopTimeout: number;
  /** --log-opt max-size in bytes: the log rotates past it; absent, unbounded. */
  logMaxSize?: number;
  /** --log-opt max-file: rotated files kept besides the live one (default 1). */
  logMaxFile?: number;
  /** --log-opt path: the log file instead of the container's ctr.log. */
  logPath?: string;
  /** --log-opt tag: shown by inspect. */
  logTag?: string;
  /** --ulimit: limits init sets before it execs the command. */
  ulimits?: Ulimit[];
  /** --shm-size in bytes; absent, Podman's default. */
  shmSize?: number;
  /** --ipc; absent, a namespace of its own (shareable). */
  ipc?: IpcMode;
  /** --tz: a zone under /usr/share/zoneinfo, or "local" for the host's. */
  tz?: string;
  /** --userns, --uidmap, --gidmap; absent, the user's own map. */
  userns?: UsernsMode;
  /** --timeout: seconds the command may run before it is killed; 0: no limit. */
  timeout?: number;
  /** --passwd: a numeric user gets an /etc/passwd entry (default true). */
  passwd?: boolean;
  /** Lines for the container's /etc/passwd and /etc/group (--hostuser, keep-id). */
  passwdEntries?: string[];
  groupEntries?: string[];
  /** --device: host device nodes bound into the container. */
  devices?: DeviceMapping[];
  /** --detach-keys: the sequence that detaches from the container. */
  detachKeys?: string;
  /** The health check its parent runs (--health-*, or the image's). */
  healthcheck?: HealthConfig;
  /** --health-on-failure; absent: none. */
  healthOnFailure?: HealthAction;
  /** --cgroupns as given (host, private, ns:PATH, container:NAME). */
  cgroupns?: string;
  /** --sdnotify: how systemd hears that it is ready; absent, container. */
  sdnotify?: SdNotifyMode;
  /** --oom-score-adj: written for the container's first process. */
  oomScoreAdj?: number;
  /**
   * --init-ctr: a pod's init container, run to its end before the pod's
   * other containers start, at every pod start ("always") or at the
   * first only, then removed ("once").
   */
  initCtr?: InitCtrType;
  /** The id of the pod the container is in (--pod). */
  pod?: string;
  /** --requires: containers started before this one, which it depends on. */
  requires?: string[];
  /** --annotation: key=value annotations inspect shows. */
  annotations?: Record<string, string>;
  /** --pidfile: where each start writes the container's pid. */
  pidFile?: string;
  /** Where each start writes its monitor's pid (a pod's --infra-conmon-pidfile). */
  monitorPidFile?: string;
  /** --no-hosts: the image's /etc/hosts stays, ptd binds none over it. */
  noHosts?: boolean;
  /** --sysctl: namespaced /proc/sys knobs init sets (sysctls.ts). */
  sysctls?: Record<string, string>;
  /**
   * --pid, --uts (shared_ns.ts); a pod member's are its infra container's
   * (container:ID) when the pod shares them; absent, namespaces of its own.
   */
  pid?: SharedNsMode;
  uts?: SharedNsMode;
  /** --umask, octal as given ("0077"); absent, 0022. */
  umask?: string;
  /** --personality: LINUX or LINUX32. */
  personality?: string;
  /** --conmon-pidfile: where each start writes the pid of its parent. */
  conmonPidFile?: string;
  /** --chrootdirs: directories that get /etc/hosts and resolv.conf too. */
  chrootDirs?: string[];
  /** --passwd-entry: the template of the /etc/passwd line --passwd adds. */
  passwdEntry?: string;
  /** --secret: files and variables from the secret store. */
  secrets?: SecretUse[];
}

/**
 * The settings of a container ptd makes for itself (a build step, a pod's
 * infra container): what `run` gives when no flag says otherwise, less
 * the network.
 */
export function plainHost(): Omit<HostConfig, "network" | "networkMode"> {
  return {
    autoRemove: false,
    interactive: false,
    tty: false,
    capAdd: [],
    capDrop: [],
    privileged: false,
    noNewPrivileges: false,
    readOnly: false,
    groupAdd: [],
    restartPolicy: { name: "no", maximumRetryCount: 0 },
    stopSignal: "SIGTERM",
    stopTimeout: 10,
  };
}

/** The kinds of a pod's init containers (Podman's --init-ctr values). */
export type InitCtrType = "always" | "once";

/** Docker's --restart: no, on-failure[:N], always, unless-stopped. */
export interface RestartPolicy {
  name: "no" | "on-failure" | "always" | "unless-stopped";
  /** For on-failure: how many restarts at most; 0 is unlimited. */
  maximumRetryCount: number;
}

/** What happens to the container over time. */
export interface ContainerState {
  status: "created" | "running" | "restarting" | "exited";
  pid: number;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  /** The monitor that owns the container, 0 when none. */
  monitorPid?: number;
  /** Its start time (/proc/PID/stat), so a reused pid is not taken for it. */
  monitorStart?: string;
  /**
   * The parent is a foreground `ptd run` (its user's shell waits on it), not
   * a monitor: `rm -f` kills the container and lets the parent finish.
   */
  foreground?: boolean;
  restartCount?: number;
  /** Why the last start failed, if it did. */
  error?: string;
  /** Set by stop/kill: the restart policy must not bring it back. */
  stoppedByUser?: boolean;
  /** The health check's results (health.ts). */
  health?: HealthState;
  /** --health-on-failure=restart stopped it: start it again, whatever the policy. */
  healthRestart?: boolean;
  /** The kernel's OOM killer killed a process of its last run. */
  oomKilled?: boolean;
  /** Frozen by `pause` (the cgroup v2 freezer). */
  paused?: boolean;
}

/** The state of a container that was never started. */
export function createdState(): ContainerState {
  return {
    status: "created",
    pid: 0,
    exitCode: 0,
    startedAt: "0001-01-01T00:00:00Z",
    finishedAt: "0001-01-01T00:00:00Z",
  };
}

/** The container's hostname: its own, or the first 12 hex digits of its id. */
export function hostnameOf(c: ContainerConfig): string {
  return c.hostname || c.id.slice(0, 12);
}

/** The command line the container runs: entrypoint then cmd. */
export function commandOf(c: ContainerConfig): string[] {
  return [...c.entrypoint, ...c.cmd];
}

/** The ports a container publishes. */
export function portsOf(c: ContainerConfig): PortMapping[] {
  return c.host.ports ?? [];
}

/** `ps`'s Mounts: where volumes and binds are mounted, as Podman lists them. */
export function userVolumes(c: ContainerConfig): string[] {
  return (c.mounts ?? []).filter((m) => m.type !== "tmpfs")
    .map((m) => m.destination);
}
