/**
 * Which cgroup a container gets, decided in one place for create (refuse
 * what cannot be honoured), start (make it and move the container in),
 * update, stats and pause: a delegated host gives every container a cgroup
 * of its own (unless --cgroups disabled); elsewhere a container runs in its
 * parent's, and a limit asked for is refused rather than ignored.
 */
import { invalid, PtdError } from "../runtime/errors.ts";
import { containerCgroup, missingControllers } from "./cgroupfs.ts";
import {
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
  /** --cgroup-parent, relative to the delegated subtree. */
  cgroupParent?: string;
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

let cached: ReturnType<typeof delegation> | undefined;

/** This process's delegation (or why there is none), read once. */
export function hostDelegation(): ReturnType<typeof delegation> {
  return cached ??= delegation(realCgroupHost());
}

/**
 * The error for limits `s` asks for that this host cannot enforce, naming
 * the first flag, the reason and `ptd doctor`'s fix; undefined when all
 * can be. `d` is the host's delegation (a parameter for tests).
 */
export function limitRefusal(
  s: CgroupSettings,
  d = hostDelegation(),
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
  const refusal = limitRefusal(s);
  if (refusal) throw refusal;
}

/** Where container `id` lives when it runs: a cgroup dir, or none. */
export function cgroupPlan(
  id: string,
  s: CgroupSettings,
  d = hostDelegation(),
): { delegation: Delegation; dir: string } | undefined {
  if (s.cgroups === "disabled" || !isDelegated(d)) return undefined;
  return { delegation: d, dir: containerCgroup(d, id, s.cgroupParent) };
}
