/**
 * What a container's cgroup has used, read from its cgroup v2 files: the
 * numbers behind `ptd stats`.
 */
import { readKeyed } from "./cgroupfs.ts";

/** One reading of a cgroup. */
export interface CgroupUsage {
  /** CPU time used, nanoseconds. */
  cpuNano: number;
  memUsage: number;
  /** memory.max, or the host's memory when there is none. */
  memLimit: number;
  pids: number;
  blockInput: number;
  blockOutput: number;
}

function readNumber(path: string): number | undefined {
  try {
    const text = Deno.readTextFileSync(path).trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The host's memory in bytes (/proc/meminfo's MemTotal). */
function hostMemory(): number {
  try {
    const m = /MemTotal:\s+(\d+) kB/.exec(
      Deno.readTextFileSync("/proc/meminfo"),
    );
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Reads the usage of the cgroup `dir`. */
export function cgroupUsage(dir: string): CgroupUsage {
  let blockInput = 0, blockOutput = 0;
  try {
    for (const line of Deno.readTextFileSync(`${dir}/io.stat`).split("\n")) {
      blockInput += Number(/rbytes=(\d+)/.exec(line)?.[1] ?? 0);
      blockOutput += Number(/wbytes=(\d+)/.exec(line)?.[1] ?? 0);
    }
  } catch { /* no io controller delegated */ }
  return {
    cpuNano: (readKeyed(dir, "cpu.stat").usage_usec ?? 0) * 1000,
    memUsage: readNumber(`${dir}/memory.current`) ?? 0,
    memLimit: readNumber(`${dir}/memory.max`) ?? hostMemory(),
    pids: readNumber(`${dir}/pids.current`) ?? 0,
    blockInput,
    blockOutput,
  };
}

/** Bytes received and sent by the network namespace of process `pid`. */
export function netUsage(pid: number): [number, number] {
  let rx = 0, tx = 0;
  try {
    const lines = Deno.readTextFileSync(`/proc/${pid}/net/dev`).split("\n");
    for (const line of lines.slice(2)) {
      const [name, rest] = line.split(":");
      if (!rest || name.trim() === "lo") continue;
      const f = rest.trim().split(/\s+/).map(Number);
      rx += f[0];
      tx += f[8];
    }
  } catch { /* gone meanwhile */ }
  return [rx, tx];
}
