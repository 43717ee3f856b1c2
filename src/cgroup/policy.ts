/**
 * Which cgroup a container gets, decided in one place for create (refuse
 * what cannot be honoured), start (make it and move the container in),
 * update, stats and pause: a delegated host gives every container a cgroup
 * of its own (unless --cgroups disabled); elsewhere a container runs in its
 * parent's, and a limit asked for is refused rather than ignored.
 */
import { invalid, PtdError } from "../runtime/errors.ts";
export { removeCgroup, setFrozen } from "./cgroupfs.ts";
import {
  containerCgroup,
  createCgroup,
  enterCgroup,
  missingControllers,
  oomKilled,
  readKeyed,
  setResources,
} from "./cgroupfs.ts";
import {
  containerScope,
  type ScopePlan,
  slicePath,
  startScope,
  userBusPath,
} from "./systemd_scope.ts";
import {
  CGROUP_MANAGER_ENV,
  defaultCgroupns,
  type Delegation,
  delegation,
  isDelegated,
  realCgroupHost,
} from "./host.ts";
import {
  checkResources,
  LIMIT_FLAGS,
  type Resources,
  setLimits,
} from "./resources.ts";

/** --cgroups: Podman's modes. */
export type CgroupsMode = "enabled" | "disabled" | "no-conmon" | "split";

/** What a container's record says about its cgroup. */
export interface CgroupSettings {
  resources?: Resources;
  cgroups?: CgroupsMode;
  /**
   * --cgroup-parent: a directory relative to the delegated subtree
   * (cgroupfs) or a slice (systemd).
   */
  cgroupParent?: string;
  /** Who makes the cgroup, chosen at create; absent: cgroupfs. */
  cgroupManager?: CgroupManager;
}

/** --cgroup-manager. */
export type CgroupManager = "systemd" | "cgroupfs";

/**
 * The manager for a new container: --cgroup-manager, else systemd, as
 * Podman defaults on cgroup v2. Without a user bus (or on cgroup v1, where
 * rootless cgroups are none of systemd's business), cgroupfs: with Podman's
 * warnings when systemd was the choice on v2.
 */
export function chooseCgroupManager(
  asked = Deno.env.get(CGROUP_MANAGER_ENV),
): CgroupManager {
  if (asked === "cgroupfs") return "cgroupfs";
  if (defaultCgroupns() === "host") return "cgroupfs";
  if (userBusPath() && isDelegated(hostDelegation("systemd"))) return "systemd";
  const uid = Deno.uid();
  for (
    const line of [
      "The cgroupv2 manager is set to systemd but there is no systemd user session available",
      "For using systemd, you may need to log in using a user session",
      `Alternatively, you can enable lingering with: \`loginctl enable-linger ${uid}\` (possibly as root)`,
      "Falling back to --cgroup-manager=cgroupfs",
    ]
  ) console.error(`WARN: ${line}`);
  return "cgroupfs";
}

/** --cgroups with Podman's error. */
export function parseCgroupsMode(text: string): CgroupsMode {
  if (!["enabled", "disabled", "no-conmon", "split"].includes(text)) {
    throw invalid(
      `running container create option: invalid cgroup mode "${text}": invalid argument`,
    );
  }
  return text as CgroupsMode;
}

/** --cgroupns: host, private, ns:PATH or container:NAME (Podman's error). */
export function parseCgroupns(text: string): string {
  if (!/^(host|private|ns:.+|container:.+)$/.test(text)) {
    throw invalid(`unrecognized namespace mode ${text} passed`);
  }
  return text;
}

const cached = new Map<CgroupManager, ReturnType<typeof delegation>>();

/** This process's delegation for `manager` (or why there is none), read once. */
export function hostDelegation(
  manager: CgroupManager = "cgroupfs",
): ReturnType<typeof delegation> {
  let d = cached.get(manager);
  if (!d) {
    d = delegation(realCgroupHost(), manager === "systemd");
    cached.set(manager, d);
  }
  return d;
}

/**
 * The error for limits `s` asks for that this host cannot enforce, naming
 * the first flag, the reason and `ptd doctor`'s fix; undefined when all
 * can be. `d` is the host's delegation (a parameter for tests).
 */
export function limitRefusal(
  s: CgroupSettings,
  d = hostDelegation(s.cgroupManager),
): PtdError | undefined {
  const r = s.resources ?? {};
  const asked = setLimits(r);
  if (asked.length === 0) return undefined;
  const flag = LIMIT_FLAGS[asked[0]];
  if (s.cgroups === "disabled") {
    return invalid(
      `${flag}: cannot set resource limits when cgroups are disabled (--cgroups disabled)`,
    );
  }
  if (!isDelegated(d)) {
    return invalid(
      `${flag} needs a cgroup v2 subtree delegated to you, but ${d.reason}; fix (see ptd doctor): ${d.fix}`,
    );
  }
  const missing = missingControllers(d, r);
  if (missing.length > 0) {
    return invalid(
      `${flag}: the ${
        missing[0]
      } controller is not delegated to you; fix (see ptd doctor): add it to Delegate= of user@.service (systemctl edit user@.service)`,
    );
  }
  return undefined;
}

/** Checks `s` as create does: consistent limits this host can enforce. */
export function checkCgroupSettings(s: CgroupSettings): void {
  checkResources(s.resources ?? {});
  checkCgroupParent(s);
  const refusal = limitRefusal(s);
  if (refusal) throw refusal;
}

/** Where a running container lives: its cgroup dir, and its scope. */
export interface CgroupPlan {
  delegation: Delegation;
  dir: string;
  /** With the systemd manager: the scope that holds `dir`. */
  scope?: ScopePlan;
}

/** Where container `id` lives when it runs: a cgroup dir, or none. */
export function cgroupPlan(
  id: string,
  s: CgroupSettings,
  d = hostDelegation(s.cgroupManager),
): CgroupPlan | undefined {
  if (s.cgroups === "disabled" || !isDelegated(d)) return undefined;
  if (s.cgroupManager !== "systemd") {
    return { delegation: d, dir: containerCgroup(d, id, s.cgroupParent) };
  }
  const scope = containerScope(id, s.cgroupParent);
  return {
    delegation: d,
    dir: `${d.root}/${slicePath(scope.slice)}/${scope.name}`,
    scope,
  };
}

/** --cgroup-parent with the systemd manager must name a slice (Podman's rule). */
export function checkCgroupParent(s: CgroupSettings): void {
  if (
    s.cgroupManager === "systemd" && s.cgroupParent !== undefined &&
    !s.cgroupParent.endsWith(".slice")
  ) {
    throw invalid(
      "systemd cgroup flag passed, but cgroup parent is not a slice: invalid argument",
    );
  }
}

/**
 * Puts process `pid` (not yet exec'd) in the cgroup `plan` with limits `r`:
 * a scope systemd makes, or a directory written by hand.
 */
export async function enterPlan(
  plan: CgroupPlan,
  pid: number,
  r: Resources,
): Promise<void> {
  if (!plan.scope) {
    createCgroup(plan.delegation, plan.dir, r);
    enterCgroup(plan.dir, pid);
    return;
  }
  const bus = userBusPath();
  if (bus === undefined) {
    throw new Error(
      "--cgroup-manager systemd: no user bus (DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus)",
    );
  }
  await startScope(bus, plan.scope, pid, `ptd container ${plan.scope.name}`);
  // systemd made it with Delegate=yes: the limits are ours to write.
  setResources(plan.dir, r);
}

/**
 * Tells, once the container ended with `code`, whether the OOM killer
 * killed one of its processes; made when it starts. A cgroupfs directory
 * is ours until we remove it. A scope's, systemd removes as soon as it is
 * empty, often before its parent reads it: then the slice above it, whose
 * counts include its children's, must have counted a kill while it ran,
 * and the container must have died of SIGKILL.
 */
export function oomWitness(plan: CgroupPlan): (code: number) => boolean {
  const slice = plan.dir.slice(0, plan.dir.lastIndexOf("/"));
  const kills = () => readKeyed(slice, "memory.events").oom_kill ?? 0;
  const before = plan.scope ? kills() : 0;
  return (code) =>
    oomKilled(plan.dir) ||
    (plan.scope !== undefined && code === 137 && kills() > before);
}
