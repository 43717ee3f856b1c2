/**
 * Whether this host gives the calling user cgroups of its own: rootless
 * limits need cgroup v2 with a subtree that systemd delegated to the user
 * (user@UID.service), and ptd must run inside it, since the kernel lets a
 * process move another only between cgroups below one it may write. The
 * answer is a delegation, or the one reason there is none (for the refusal
 * of a limit flag and for `ptd doctor`, which prints the fix).
 */

/** What the check reads; `ptd doctor`'s tests give it a fake host. */
export interface CgroupHost {
  read(path: string): string | undefined;
  stat(path: string): Deno.FileInfo | undefined;
  uid: number;
}

/** A subtree delegated to the user, and where ptd itself runs. */
export interface Delegation {
  /** user@UID.service's directory under /sys/fs/cgroup. */
  root: string;
  /** Controllers its children may use (its cgroup.subtree_control). */
  controllers: string[];
  /** This process's own cgroup directory. */
  own: string;
}

/** Why there is no delegation: a sentence, and what fixes it. */
export interface NoDelegation {
  reason: string;
  fix: string;
}

export const CGROUP_ROOT = "/sys/fs/cgroup";

/** Carries the global --cgroup-manager to the engine (and its children). */
export const CGROUP_MANAGER_ENV = "PTD_CGROUP_MANAGER";

/** The delegated subtree of user `uid`'s systemd manager. */
export function userServiceCgroup(uid: number): string {
  return `${CGROUP_ROOT}/user.slice/user-${uid}.slice/user@${uid}.service`;
}

/** The cgroup v2 directory of process `pid` ("self" by default). */
export function cgroupOf(host: CgroupHost, pid: number | "self" = "self") {
  const line = (host.read(`/proc/${pid}/cgroup`) ?? "").split("\n")
    .find((l) => l.startsWith("0::"));
  return line === undefined ? undefined : `${CGROUP_ROOT}${line.slice(3)}`;
}

/**
 * The delegation this process may use, or why there is none. With
 * `viaSystemd`, the user's systemd makes the cgroups, so ptd itself may run
 * outside the subtree.
 */
export function delegation(
  host: CgroupHost,
  viaSystemd = false,
): Delegation | NoDelegation {
  if (!host.stat(`${CGROUP_ROOT}/cgroup.controllers`)) {
    const hybrid = host.stat(`${CGROUP_ROOT}/unified`) !== undefined;
    return {
      reason: `this host has ${
        hybrid ? "hybrid cgroups (v1 controllers" : "cgroup v1 (no v2"
      }, which only root may use)`,
      fix: "boot with systemd.unified_cgroup_hierarchy=1",
    };
  }
  const root = userServiceCgroup(host.uid);
  const st = host.stat(root);
  if (!st || st.uid !== host.uid) {
    return {
      reason:
        `no cgroup v2 subtree is delegated to you (user@${host.uid}.service is not running)`,
      fix: "sudo loginctl enable-linger $USER",
    };
  }
  const own = cgroupOf(host);
  if (!viaSystemd && (own === undefined || !own.startsWith(`${root}/`))) {
    return {
      reason:
        `ptd runs outside your delegated cgroup (user@${host.uid}.service)`,
      fix: "systemd-run --user --scope ptd ...",
    };
  }
  const controllers = (host.read(`${root}/cgroup.subtree_control`) ?? "")
    .trim().split(/\s+/).filter(Boolean);
  return { root, controllers, own: own ?? "" };
}

/** True for a delegation, false for the reason there is none. */
export function isDelegated(d: Delegation | NoDelegation): d is Delegation {
  return "root" in d;
}

/** The real host, for the calling process. */
export function realCgroupHost(): CgroupHost {
  return {
    read(path) {
      try {
        return Deno.readTextFileSync(path);
      } catch {
        return undefined;
      }
    },
    stat(path) {
      try {
        return Deno.statSync(path);
      } catch {
        return undefined;
      }
    },
    uid: Deno.uid() ?? 0,
  };
}

/**
 * --cgroupns when none is given, as Podman chooses it: a namespace of the
 * container's own on cgroup v2, the host's on v1 or hybrid.
 */
export function defaultCgroupns(): "private" | "host" {
  return realCgroupHost().stat(`${CGROUP_ROOT}/cgroup.controllers`)
    ? "private"
    : "host";
}
