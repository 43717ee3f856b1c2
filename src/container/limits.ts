/**
 * Resource settings of run/create as Podman spells them: --ulimit
 * (setrlimit in init) and --shm-size (the size of /dev/shm). Parsed here,
 * so that defaults from a configuration file go through the same checks.
 */
import { ramInBytes } from "../runtime/sizes.ts";
import { invalid } from "../runtime/errors.ts";

/** One --ulimit: a resource, soft and hard limits (-1: unlimited). */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** RLIMIT_* numbers by Podman's names for them. */
export const RLIMITS: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};

function limitValue(text: string): number {
  if (text === "unlimited" || text === "-1") return -1;
  if (!/^\d+$/.test(text)) {
    throw new Error(`strconv.ParseInt: parsing "${text}": invalid syntax`);
  }
  return Number(text);
}

/** Parses "name=SOFT[:HARD]" with Podman's errors; HARD defaults to SOFT. */
export function parseUlimit(item: string): Ulimit {
  try {
    const eq = item.indexOf("=");
    if (eq < 0) throw new Error(`invalid ulimit argument: ${item}`);
    const name = item.slice(0, eq);
    if (!(name in RLIMITS)) throw new Error(`invalid ulimit type: ${name}`);
    const [soft, hard = soft, extra] = item.slice(eq + 1).split(":");
    if (extra !== undefined) {
      throw new Error(`too many limit value arguments - ${item.slice(eq + 1)}`);
    }
    const limit = { name, soft: limitValue(soft), hard: limitValue(hard) };
    if (limit.hard !== -1 && (limit.soft === -1 || limit.soft > limit.hard)) {
      throw new Error(
        `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
      );
    }
    return limit;
  } catch (e) {
    throw invalid(
      `ulimit option "${item}" requires name=SOFT:HARD, failed to be parsed: ${
        (e as Error).message
      }`,
    );
  }
}

export { DEFAULT_SHM_SIZE } from "../runtime/spec.ts";

/** A size in bytes from "64m", "1g", "1024" (binary units, as Podman reads --shm-size). */
export function parseShmSize(text: string): number {
  const n = ramInBytes(text);
  if (n === undefined) {
    throw invalid(`unable to translate --shm-size: invalid size: '${text}'`);
  }
  return n;
}
