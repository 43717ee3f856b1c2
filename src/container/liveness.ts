/**
 * Which recorded processes are still alive. State lives in files, and a
 * monitor killed with SIGKILL cannot update them: readers reconcile what the
 * files say with /proc, keyed by pid and start time so a reused pid is never
 * taken for the monitor.
 */
import { lazy } from "../runtime/lazy.ts";
import { readJson } from "../storage/json.ts";
import type { ContainerConfig, ContainerState } from "./config.ts";
import { type ContainerStore, NoSuchContainer } from "./store.ts";

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

/** This process as a container's parent, as state.json records one. */
export function ownClaim(
  foreground: boolean,
): Pick<ContainerState, "monitorPid" | "monitorStart" | "foreground"> {
  return {
    monitorPid: Deno.pid,
    monitorStart: processStart(Deno.pid) ?? "",
    foreground,
  };
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
 * The container's state, corrected when its parent (monitor or foreground
 * run) died without recording the end: the container died with it (it has
 * the parent-death signal). A --rm container is then removed, as its parent
 * would have done, and reported as no longer there (NoSuchContainer);
 * its exit code stays in the exit file for `wait`.
 */
export async function reconcile(
  store: ContainerStore,
  id: string,
): Promise<ContainerState> {
  const s = store.state(id);
  if (!s.monitorPid || monitorAlive(s)) return s;
  let orphaned = false;
  const now = await store.updateState(id, (cur) => {
    if (!cur.monitorPid || monitorAlive(cur)) return cur;
    orphaned = true;
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
  const c = orphaned
    ? readJson<ContainerConfig>(`${store.dir(id)}/config.json`)
    : undefined;
  if (!c?.host.autoRemove) return now;
  store.writeExitFile(id, now.exitCode);
  // Loaded only here: ps and inspect need none of the removal code.
  const { removeStored } = await lazy<typeof import("./volumes.ts")>(
    "src/container/volumes.ts",
  );
  await removeStored(store, c, true);
  throw new NoSuchContainer(id);
}

/** reconcile, with undefined for a --rm container that it removed. */
export async function reconcileKept(
  store: ContainerStore,
  id: string,
): Promise<ContainerState | undefined> {
  try {
    return await reconcile(store, id);
  } catch (e) {
    if (e instanceof NoSuchContainer) return undefined;
    throw e;
  }
}
