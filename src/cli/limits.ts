/**
 * The resource-limit flags `run`, `create` and `update` share, and the
 * limits they describe (src/cgroup/resources.ts parses each value).
 */
import type { Resources } from "../cgroup/resources.ts";
import { lazy } from "../runtime/lazy.ts";
import type { OptionSpec } from "./spec.ts";

/** The flags' values as commander hands them over. */
export interface LimitFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

/** The flags that set a limit (`f` may hold a whole command's flags). */
const LIMIT_KEYS: (keyof LimitFlags)[] = [
  "memory",
  "memorySwap",
  "memoryReservation",
  "cpus",
  "cpuShares",
  "cpuQuota",
  "cpuPeriod",
  "cpusetCpus",
  "cpusetMems",
  "pidsLimit",
  "blkioWeight",
];

/** The options, in Podman's words. */
export const LIMIT_OPTIONS: OptionSpec[] = [
  {
    flags: "-m, --memory <size>",
    description: "memory limit (b, k, m or g: 64m)",
  },
  {
    flags: "--memory-swap <size>",
    description: "memory plus swap limit, -1 for unlimited swap",
  },
  {
    flags: "--memory-reservation <size>",
    description: "memory soft limit",
  },
  { flags: "--cpus <n>", description: "number of CPUs (0.5: half a core)" },
  {
    flags: "-c, --cpu-shares <shares>",
    description: "CPU shares (relative weight)",
  },
  { flags: "--cpu-quota <us>", description: "CPU CFS quota, microseconds" },
  { flags: "--cpu-period <us>", description: "CPU CFS period, microseconds" },
  {
    flags: "--cpuset-cpus <cpus>",
    description: "CPUs the container may use (0-3, 0,1)",
  },
  {
    flags: "--cpuset-mems <mems>",
    description: "memory nodes the container may use (0-3, 0,1)",
  },
  {
    flags: "--pids-limit <n>",
    description: "how many processes at most (-1: unlimited)",
  },
  {
    flags: "--blkio-weight <weight>",
    description: "block IO weight, 10 to 1000",
  },
];

/** The limits the flags set; undefined when none is given. */
export async function limitsOf(
  f: LimitFlags,
): Promise<Resources | undefined> {
  // The parsers load only for a run that sets a limit (run's hot path).
  if (LIMIT_KEYS.every((k) => f[k] === undefined)) return undefined;
  const { parseCpus, parseCpuset, parseInteger, parseMemory } = await lazy<
    typeof import("../cgroup/resources.ts")
  >("src/cgroup/resources.ts");
  const r: Resources = {};
  if (f.memory !== undefined) r.memory = parseMemory(f.memory);
  if (f.memorySwap !== undefined) {
    r.memorySwap = parseMemory(f.memorySwap, true);
  }
  if (f.memoryReservation !== undefined) {
    r.memoryReservation = parseMemory(f.memoryReservation);
  }
  if (f.cpus !== undefined) r.nanoCpus = parseCpus(f.cpus);
  if (f.cpuShares !== undefined) {
    r.cpuShares = parseInteger("-c, --cpu-shares", f.cpuShares, true);
  }
  if (f.cpuQuota !== undefined) {
    r.cpuQuota = parseInteger("--cpu-quota", f.cpuQuota);
  }
  if (f.cpuPeriod !== undefined) {
    r.cpuPeriod = parseInteger("--cpu-period", f.cpuPeriod, true);
  }
  if (f.cpusetCpus !== undefined) {
    r.cpusetCpus = parseCpuset("--cpuset-cpus", f.cpusetCpus);
  }
  if (f.cpusetMems !== undefined) {
    r.cpusetMems = parseCpuset("--cpuset-mems", f.cpusetMems);
  }
  if (f.pidsLimit !== undefined) {
    r.pidsLimit = parseInteger("--pids-limit", f.pidsLimit);
  }
  if (f.blkioWeight !== undefined) {
    r.blkioWeight = parseInteger("--blkio-weight", f.blkioWeight, true);
  }
  return Object.keys(r).length > 0 ? r : undefined;
}
