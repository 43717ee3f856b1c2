/**
 * The resource limits of run/create/update as Podman spells them, parsed
 * with Podman's errors, and what each becomes in a cgroup v2 directory
 * (the conversions runc and crun use, so a value reads the same as under
 * Podman).
 */
import { invalid } from "../runtime/errors.ts";
import { ramInBytes } from "../runtime/sizes.ts";

/** Limits as given (bytes, counts; absent: not set). */
export interface Resources {
  memory?: number;
  /** Memory plus swap; -1: unlimited swap. */
  memorySwap?: number;
  memoryReservation?: number;
  /** --cpus, in billionths of a CPU (Docker's NanoCpus). */
  nanoCpus?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** 0 or -1: unlimited. */
  pidsLimit?: number;
  blkioWeight?: number;
}

/** The flag that sets each limit, for messages. */
export const LIMIT_FLAGS: Record<keyof Resources, string> = {
  memory: "--memory",
  memorySwap: "--memory-swap",
  memoryReservation: "--memory-reservation",
  nanoCpus: "--cpus",
  cpuShares: "--cpu-shares",
  cpuQuota: "--cpu-quota",
  cpuPeriod: "--cpu-period",
  cpusetCpus: "--cpuset-cpus",
  cpusetMems: "--cpuset-mems",
  pidsLimit: "--pids-limit",
  blkioWeight: "--blkio-weight",
};

/** The cgroup v2 controller each limit needs. */
export const CONTROLLER: Record<keyof Resources, string> = {
  memory: "memory",
  memorySwap: "memory",
  memoryReservation: "memory",
  nanoCpus: "cpu",
  cpuShares: "cpu",
  cpuQuota: "cpu",
  cpuPeriod: "cpu",
  cpusetCpus: "cpuset",
  cpusetMems: "cpuset",
  pidsLimit: "pids",
  blkioWeight: "io",
};

/** The limits `r` sets, in a fixed order. */
export function setLimits(r: Resources): (keyof Resources)[] {
  return (Object.keys(LIMIT_FLAGS) as (keyof Resources)[])
    .filter((k) => r[k] !== undefined);
}

/** --memory, --memory-reservation, --memory-swap (which takes -1 too). */
export function parseMemory(text: string, swap = false): number {
  if (swap && text === "-1") return -1;
  const n = ramInBytes(text);
  if (n === undefined) {
    throw invalid(`invalid value for memory: invalid size: '${text}'`);
  }
  return n;
}

function goParseError(flag: string, text: string, fn: string): Error {
  return invalid(
    `invalid argument "${text}" for "${flag}" flag: strconv.${fn}: parsing "${text}": invalid syntax`,
  );
}

/** --cpus: a decimal number of CPUs, as nano CPUs. */
export function parseCpus(text: string): number {
  if (!/^\d*\.?\d+$|^\d+\.$/.test(text)) {
    throw goParseError("--cpus", text, "ParseFloat");
  }
  return Math.round(Number(text) * 1e9);
}

/** An integer flag; `unsigned` as Go's ParseUint reads it. */
export function parseInteger(
  flag: string,
  text: string,
  unsigned = false,
): number {
  if (!(unsigned ? /^\d+$/ : /^-?\d+$/).test(text)) {
    throw goParseError(flag, text, unsigned ? "ParseUint" : "ParseInt");
  }
  return Number(text);
}

/** --cpuset-cpus and --cpuset-mems: "0-3,6". */
export function parseCpuset(flag: string, text: string): string {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) {
    throw invalid(`invalid value for ${flag}: ${JSON.stringify(text)}`);
  }
  return text;
}

/** The smallest --memory runc and crun accept. */
const MIN_MEMORY = 6 * 1024 * 1024;

/**
 * Checks limits against each other as Podman does; `current` are those a
 * container has already (update changes some of them).
 */
export function checkResources(r: Resources, current: Resources = {}): void {
  if (r.nanoCpus !== undefined) {
    if (r.cpuQuota !== undefined) {
      throw invalid("--cpu-quota and --cpus cannot be set together");
    }
    if (r.cpuPeriod !== undefined) {
      throw invalid("--cpu-period and --cpus cannot be set together");
    }
  }
  const memory = r.memory ?? current.memory;
  if (r.memory !== undefined && r.memory > 0 && r.memory < MIN_MEMORY) {
    throw invalid("minimum memory limit allowed is 6MB");
  }
  const swap = r.memorySwap;
  if (swap !== undefined && swap > 0) {
    if (!memory) {
      throw invalid(
        "you should always set a memory limit when using a memory swap limit",
      );
    }
    if (swap < memory) {
      throw invalid(
        "minimum memoryswap limit should be larger than memory limit, see usage",
      );
    }
  }
  if (
    r.memoryReservation !== undefined && memory && r.memoryReservation > memory
  ) {
    throw invalid(
      "minimum memory limit cannot be less than memory reservation limit, see usage",
    );
  }
  if (r.blkioWeight && (r.blkioWeight < 10 || r.blkioWeight > 1000)) {
    throw invalid("range of blkio weight is from 10 to 1000");
  }
  if (r.cpuPeriod && (r.cpuPeriod < 1000 || r.cpuPeriod > 1_000_000)) {
    throw invalid(
      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    );
  }
  if (r.cpuQuota && r.cpuQuota > 0 && r.cpuQuota < 1000) {
    throw invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  }
}

/** Docker's default CFS period, in microseconds. */
const PERIOD = 100_000;

/**
 * The files of a cgroup v2 directory that carry `r`, with their values
 * (crun's conversions: shares to cpu.weight, blkio weight to io.weight).
 */
export function cgroupFiles(r: Resources): Record<string, string> {
  const files: Record<string, string> = {};
  const limit = (n: number) => n > 0 ? String(n) : "max";
  if (r.memory !== undefined) files["memory.max"] = limit(r.memory);
  if (r.memoryReservation !== undefined) {
    files["memory.low"] = String(r.memoryReservation);
  }
  if (r.memorySwap !== undefined) {
    files["memory.swap.max"] = r.memorySwap < 0
      ? "max"
      : String(Math.max(r.memorySwap - (r.memory ?? 0), 0));
  } else if (r.memory && r.memory > 0) {
    // Docker's default: as much swap as memory.
    files["memory.swap.max"] = String(r.memory);
  }
  if (r.nanoCpus !== undefined) {
    files["cpu.max"] = r.nanoCpus > 0
      ? `${Math.round(r.nanoCpus * PERIOD / 1e9)} ${PERIOD}`
      : `max ${PERIOD}`;
  } else if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) {
    const quota = r.cpuQuota !== undefined && r.cpuQuota > 0
      ? String(r.cpuQuota)
      : "max";
    files["cpu.max"] = `${quota} ${r.cpuPeriod || PERIOD}`;
  }
  if (r.cpuShares) {
    files["cpu.weight"] = String(
      1 + Math.floor((r.cpuShares - 2) * 9999 / 262142),
    );
  }
  if (r.cpusetCpus !== undefined) files["cpuset.cpus"] = r.cpusetCpus;
  if (r.cpusetMems !== undefined) files["cpuset.mems"] = r.cpusetMems;
  if (r.pidsLimit !== undefined) files["pids.max"] = limit(r.pidsLimit);
  if (r.blkioWeight) {
    files["io.weight"] = String(
      1 + Math.floor((r.blkioWeight - 10) * 9999 / 990),
    );
  }
  return files;
}
