/**
 * Which recorded processes are still alive. State lives in files, and a
 * monitor killed with SIGKILL cannot update them: readers reconcile what the
 * files say with /proc, keyed by pid and start time so a reused pid is never
 * taken for the monitor.
 */
import type { ContainerState } from "./config.ts";
import type { ContainerStore } from "./store.ts";

/** Field 22 of /proc/PID/stat (start time), undefined if gone or a zombie. */
export function processStart(pid: number): string | undefined {
  if (pid <= 0) return undefined;
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parens: fields follow the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/** Whether the container's monitor is the live process the state names. */
export function monitorAlive(s: ContainerState): boolean {
  return !!s.monitorPid && processStart(s.monitorPid) === s.monitorStart;
}

/** True while the state says a process runs or is about to. */
export function isActive(s: ContainerState): boolean {
  return s.status === "running" || s.status === "restarting";
}

/** Exit code recorded when the monitor vanished: its container got SIGKILL. */
const KILLED = 137;

/**
 * The container's state, corrected when its monitor died without recording
 * the end (the container dies with it: it has the parent-death signal).
 */
export async function reconcile(
  store: ContainerStore,
  id: string,
): Promise<ContainerState> {
  const s = store.state(id);
  if (!s.monitorPid || monitorAlive(s)) return s;
  return await store.updateState(id, (cur) => {
    if (!cur.monitorPid || monitorAlive(cur)) return cur;
    return {
      ...cur,
      status: cur.status === "created" ? "created" : "exited",
      pid: 0,
      exitCode: isActive(cur) ? KILLED : cur.exitCode,
      finishedAt: isActive(cur) ? new Date().toISOString() : cur.finishedAt,
      monitorPid: 0,
      monitorStart: "",
    };
  });
}
