/**
 * Whether a container needs the cgroup code at all (policy.ts and the
 * managers under it), told from its settings and one stat of the host,
 * so that a run on a host where no container gets a cgroup (cgroup v1 or
 * hybrid) and asks for no limit loads none of it.
 */
import { defaultCgroupns } from "./host.ts";
import type { CgroupSettings } from "./policy.ts";

/** cgroup v2 is the host's hierarchy: the only one a rootless user may get. */
function unified(): boolean {
  return defaultCgroupns() === "private";
}

/**
 * At create: a manager is chosen and the settings are checked. Elsewhere
 * the manager is cgroupfs (what policy.ts's chooseCgroupManager answers
 * without cgroup v2) and there is nothing to check.
 */
export function createNeedsCgroups(s: CgroupSettings): boolean {
  return s.resources !== undefined || s.cgroupParent !== undefined ||
    (s.cgroups !== "disabled" && unified());
}

/** At start: the container may get a cgroup of its own. */
export function startNeedsCgroups(s: CgroupSettings): boolean {
  return s.cgroups !== "disabled" && unified();
}
