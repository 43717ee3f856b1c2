/**
 * Containers that depend on others, as Podman counts them: one that joins
 * another's network (--network container:X) or IPC, PID or UTS namespace
 * (--ipc/--pid/--uts container:X, a pod member's of its infra), or that
 * --requires it. A container with dependents, in
 * whatever state they are, cannot be removed, even with -f; `rm --depend`
 * removes them first.
 */
import { PtdError } from "../runtime/errors.ts";
import type { ContainerConfig } from "./config.ts";
import { ipcTarget } from "./namespaces.ts";
import type { ContainerStore } from "./store.ts";

/** The names or ids `c`'s settings refer to other containers by. */
export function dependencyRefs(c: ContainerConfig): string[] {
  const refs: string[] = [];
  const net = c.host.networkMode;
  if (net.kind === "container") refs.push(net.target!);
  for (const mode of [c.host.ipc, c.host.pid, c.host.uts]) {
    const target = ipcTarget(mode);
    if (target !== undefined) refs.push(target);
  }
  return [...refs, ...(c.host.requires ?? [])];
}

/** The ids of the containers `c` depends on that are still there. */
export function dependencyIds(
  store: ContainerStore,
  c: ContainerConfig,
): string[] {
  const ids: string[] = [];
  for (const ref of dependencyRefs(c)) {
    try {
      const id = store.find(ref).id;
      if (!ids.includes(id)) ids.push(id);
    } catch { /* gone since: nothing to depend on */ }
  }
  return ids;
}

/** The containers of `store` that depend on `c`. */
export function dependentsOf(
  store: ContainerStore,
  c: ContainerConfig,
): ContainerConfig[] {
  return store.list().filter((d) =>
    d.id !== c.id && dependencyIds(store, d).includes(c.id)
  );
}

/**
 * Podman's refusal to remove a container others depend on: exit 125, its
 * words ("container already exists" is the cause Podman names).
 */
export function refuseIfDepended(store: ContainerStore, c: ContainerConfig) {
  const deps = dependentsOf(store, c);
  if (deps.length === 0) return;
  throw new PtdError(
    "invalid",
    `container ${c.id} has dependent containers which must be removed before it: ${
      deps.map((d) => d.id).join(", ")
    }: container already exists`,
  );
}
