/**
 * A container's cgroup, made by writing cgroupfs directly under the user's
 * delegated subtree (Podman's `--cgroup-manager cgroupfs`):
 * user@UID.service/PARENT/ptd-ID, PARENT being --cgroup-parent or "ptd".
 * The container's first process is moved in before it execs, so all it
 * starts is counted; its parent (the monitor) and the network helpers stay
 * outside, so a limit hits the container alone.
 */
import { cgroupFiles, type Resources } from "./resources.ts";
import type { Delegation } from "./host.ts";

/** The parent of containers' cgroups when --cgroup-parent is not given. */
export const DEFAULT_PARENT = "ptd";

/** The directory of container `id`'s cgroup under delegation `d`. */
export function containerCgroup(
  d: Delegation,
  id: string,
  parent = DEFAULT_PARENT,
): string {
  const rel = parent.replace(/^\/+|\/+$/g, "");
  return `${d.root}/${rel ? `${rel}/` : ""}ptd-${id}`;
}

/** The controllers `r` needs that `d` does not delegate. */
export function missingControllers(d: Delegation, r: Resources): string[] {
  const need = new Set(
    Object.keys(cgroupFiles(r)).map((f) => f.slice(0, f.indexOf("."))),
  );
  return [...need].filter((c) => !d.controllers.includes(c));
}

function writeFile(dir: string, name: string, value: string) {
  try {
    Deno.writeTextFileSync(`${dir}/${name}`, value);
  } catch (e) {
    throw new Error(
      `cannot write ${value} to ${dir}/${name}: ${(e as Error).message}`,
    );
  }
}

/**
 * Creates `dir` (below `d.root`) with every delegated controller enabled on
 * the way down, and sets `r` in it.
 */
export function createCgroup(d: Delegation, dir: string, r: Resources): void {
  const steps = dir.slice(d.root.length + 1).split("/");
  let at = d.root;
  for (const step of steps) {
    // Each level hands its controllers on to the next.
    const available = (Deno.readTextFileSync(`${at}/cgroup.controllers`))
      .trim().split(/\s+/).filter(Boolean);
    const enabled = Deno.readTextFileSync(`${at}/cgroup.subtree_control`)
      .trim().split(/\s+/);
    const missing = available.filter((c) => !enabled.includes(c));
    if (missing.length > 0 && at !== d.root) {
      writeFile(
        at,
        "cgroup.subtree_control",
        missing.map((c) => `+${c}`).join(" "),
      );
    }
    at = `${at}/${step}`;
    Deno.mkdirSync(at, { recursive: true });
  }
  setResources(dir, r);
}

/** Writes the files that carry `r` into the cgroup `dir`. */
export function setResources(dir: string, r: Resources): void {
  for (const [name, value] of Object.entries(cgroupFiles(r))) {
    // Without swap (no swap on the host) the file is absent: nothing to cap.
    if (name === "memory.swap.max" && !exists(`${dir}/${name}`)) continue;
    writeFile(dir, name, value);
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Moves process `pid` (and, as its children, all it starts) into `dir`. */
export function enterCgroup(dir: string, pid: number): void {
  writeFile(dir, "cgroup.procs", String(pid));
}

/** Reads a "key value" file of a cgroup (memory.events, cpu.stat, ...). */
export function readKeyed(dir: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  let text = "";
  try {
    text = Deno.readTextFileSync(`${dir}/${name}`);
  } catch { /* controller not enabled: nothing to read */ }
  for (const line of text.split("\n")) {
    const [k, v] = line.split(" ");
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** True when the kernel OOM-killed a process of the cgroup `dir`. */
export function oomKilled(dir: string): boolean {
  return (readKeyed(dir, "memory.events").oom_kill ?? 0) > 0;
}

/**
 * Freezes (or thaws) every process of `dir` with the cgroup v2 freezer and
 * waits until the kernel reports it done.
 */
export async function setFrozen(dir: string, frozen: boolean): Promise<void> {
  writeFile(dir, "cgroup.freeze", frozen ? "1" : "0");
  for (let i = 0; i < 200; i++) {
    if (readKeyed(dir, "cgroup.events").frozen === (frozen ? 1 : 0)) return;
    await new Promise((ok) => setTimeout(ok, 10));
  }
  throw new Error(`${dir}: the freezer did not settle`);
}

/** True when the cgroup `dir` is frozen. */
export function isFrozen(dir: string): boolean {
  return readKeyed(dir, "cgroup.events").frozen === 1;
}

/**
 * Removes the cgroup `dir` of a container that ended: what is left in it
 * is killed first (cgroup.kill), and the directory goes once it is empty.
 */
export async function removeCgroup(dir: string): Promise<void> {
  if (!exists(dir)) return;
  try {
    writeFile(dir, "cgroup.kill", "1");
  } catch { /* kernel < 5.14: the processes went with the PID namespace */ }
  for (let i = 0; i < 100; i++) {
    try {
      Deno.removeSync(dir);
      return;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      await new Promise((ok) => setTimeout(ok, 10));
    }
  }
}
