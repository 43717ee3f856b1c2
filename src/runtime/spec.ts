/**
 * The runtime spec: everything `ptd init` needs to build a container, written
 * as JSON by whoever creates the container (CLI or monitor) and read by init
 * before it pivots away from the host. Plain data, no host objects.
 */
import type { IdRange } from "./idmap.ts";

/** An overlay root: read-only lower layers (top first) plus a writable upper. */
export interface OverlayRootfs {
  lower: string[];
  upper: string;
  work: string;
  /** The mount point, inside the container's private mount namespace. */
  merged: string;
}

/**
 * A root that is a private directory of its own (the vfs driver's full copy
 * of the layers): bound onto `merged`, not mounted as an overlay.
 */
export interface CopyRootfs {
  copy: string;
  merged: string;
}

/** A mount the user asked for (volume, bind, tmpfs, devpts or an image). */
export interface MountSpec {
  type: "bind" | "tmpfs" | "devpts" | "overlay";
  /**
   * Host path for binds (already resolved by the CLI); for an overlay (an
   * image's root) the host directory it is mounted on before pivot_root,
   * then bound like a bind; unused for tmpfs and devpts.
   */
  source: string;
  /** Absolute path inside the container. */
  destination: string;
  readonly: boolean;
  /** Extra mount data for tmpfs or devpts, e.g. "size=64m,mode=1777". */
  data?: string;
  /** overlay: its lower directories, top first; upper and work if writable. */
  lower?: string[];
  upper?: string;
  work?: string;
}

/** The process to exec inside the container. */
export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  /** "", "name", "uid", "uid:gid", "name:group": resolved in the rootfs. */
  user: string;
  /** Extra supplementary groups (--group-add). */
  groups: string[];
  /** Give the process stdin (otherwise /dev/null). */
  stdin: boolean;
  /** The bounding set, CAP_ names; root's effective and permitted too. */
  capabilities: string[];
  /**
   * What a user other than root keeps (--cap-add): effective, permitted,
   * inheritable and ambient.
   */
  userCapabilities?: string[];
  noNewPrivileges: boolean;
  /**
   * The seccomp program, base64: 4 bytes of seccomp(2) flags, then the
   * filter's sock_filter entries; absent, no filter.
   */
  seccomp?: string;
  /** setrlimit before exec: RLIMIT_* number, soft, hard (-1: unlimited). */
  rlimits?: [number, number, number][];
  /**
   * /etc/passwd and /etc/group lines init appends when their id is not
   * there yet (--hostuser, keep-id's user).
   */
  passwdEntries?: string[];
  groupEntries?: string[];
  /** A numeric user unknown to /etc/passwd gets an entry (--passwd). */
  passwd?: boolean;
  /** --passwd-entry: that entry's template (user.ts fillPasswdEntry). */
  passwdEntry?: string;
  /** --preserve-fds: descriptors 3..3+N-1, inherited, stay open. */
  preserveFds?: number;
  /** --umask: the command's file mode creation mask; absent, 0022. */
  umask?: number;
  /** --personality: the execution domain, LINUX or LINUX32; absent, as is. */
  personality?: string;
}

/**
 * --group-add keep-groups: the process keeps the supplementary groups it
 * was started with (the user's, on the host) instead of the container's.
 */
export const KEEP_GROUPS = "keep-groups";

/** /dev/shm's size when none is asked: Podman's "65536k", read as decimal. */
export const DEFAULT_SHM_SIZE = 65536000;

/** The spec init reads. */
export interface RuntimeSpec {
  id: string;
  rootfs: OverlayRootfs | CopyRootfs;
  hostname: string;
  /** Host files bind-mounted over /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  etcFiles: Record<string, string>;
  /** --sysctl: /proc/sys knobs (net.ipv4.x) init sets, namespaced ones only. */
  sysctls?: Record<string, string>;
  mounts: MountSpec[];
  /** Owners and modes init gives mounted files (secrets), inside the root. */
  owners?: { path: string; uid: number; gid: number; mode: number }[];
  process: ProcessSpec;
  /** True inside a user namespace: no mknod, userxattr overlay, gid 5 maybe unmapped. */
  rootless: boolean;
  /** The container has its own network namespace (bring lo up, mount sysfs). */
  privateNetwork: boolean;
  /**
   * A network namespace file to join instead of making a new one
   * (`--network container:`, `ns:`); the parent enters it, init never reads it.
   */
  joinNetns?: string;
  /**
   * A user namespace to be born in instead of a new one (a named
   * network's holder); the parent enters it, init never reads it.
   */
  joinUserns?: string;
  /**
   * uid and gid maps of a new user namespace, over host ids; absent, the
   * user's own (its id as root, the subordinate ranges after it). The
   * parent writes them; init never reads them.
   */
  idMaps?: { uid: IdRange[]; gid: IdRange[] };
  /**
   * private: a cgroup namespace rooted at the container's own cgroup (init
   * makes it, once its parent has moved it there), with that cgroup
   * mounted on /sys/fs/cgroup; host: the parent's.
   */
  cgroupns?: "private" | "host";
  /** host: the host's IPC namespace and /dev/shm; none: no /dev/shm. */
  ipc?: "private" | "host" | "none";
  /**
   * --ipc container:: the IPC namespace file to join, entered like
   * `joinNetns` (with its owning user namespace).
   */
  joinIpc?: string;
  /** Bytes of /dev/shm. */
  shmSize?: number;
  /**
   * --pid host: no PID namespace of its own, and the host's /proc bound
   * (a user namespace may not mount a proc of a PID namespace it does not
   * own); joinPid: a PID namespace file to be born in, entered like
   * `joinNetns`.
   */
  pid?: "host";
  joinPid?: string;
  /**
   * --uts host, or a UTS namespace file to join (entered like
   * `joinNetns`): either way the hostname is not the container's to set.
   */
  uts?: "host";
  joinUts?: string;
  privileged: boolean;
  /** --security-opt mask=: paths masked besides the defaults. */
  mask?: string[];
  /** --security-opt unmask=: default masked paths left alone ("ALL"). */
  unmask?: string[];
  readonlyRootfs: boolean;
  /** Kill the container when its parent (CLI or monitor) dies. */
  dieWithParent: boolean;
  /**
   * Inherited descriptors init puts on 0, 1 and 2 (a monitor's pipes);
   * absent, the parent's stdio is kept.
   */
  stdio?: [number, number, number];
  /**
   * An inherited descriptor on which init reports a failure to start, as
   * the JSON of PtdError.toData() (errors.ts); execve closes it, so EOF
   * alone means the command started.
   */
  errorFd?: number;
  /**
   * -t: init opens a pty on the container's own devpts, makes it stdio,
   * controlling terminal and /dev/console, sets its size, and sends the
   * master back over the inherited unix socket `socket` (SCM_RIGHTS).
   */
  console?: { socket: number; size?: [number, number] };
  /**
   * Rootless overlay: an inherited unix socket on which init sends the
   * /dev/fuse descriptor of a fuse-overlayfs root it mounted (the parent
   * starts the daemon on it), or which it just closes.
   */
  fuseSocket?: number;
  /**
   * Named networks: the read end of a pipe on which the parent writes one
   * byte once the container's network is up (it is wired while init sets
   * the container up). Init waits for it right before it execs the
   * command; EOF means the network failed and the parent ends the child.
   */
  networkGate?: number;
}

/**
 * Device nodes every container gets, bound from the host (mknod is not
 * allowed rootless). Here, not in rootfs.ts, so that the CLI and the
 * monitor, which name them, do not load init's mount code.
 */
export const DEVICES = ["null", "zero", "full", "random", "urandom", "tty"];
