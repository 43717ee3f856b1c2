/**
 * The engine's `update`: new limits for a container, kept in its record
 * (a restart keeps them) and, while it runs, written into its cgroup at
 * once. Refused as create refuses them where they cannot be enforced.
 */
import { setResources } from "../cgroup/cgroupfs.ts";
import { cgroupPlan, limitRefusal } from "../cgroup/policy.ts";
import { checkResources, type Resources } from "../cgroup/resources.ts";
import { monitorAlive, reconcile } from "../container/liveness.ts";
import { invalid } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import { containerStore } from "./listing.ts";

/** `r` over `old`: --cpus replaces a quota and period, and the reverse. */
function merge(old: Resources, r: Resources): Resources {
  const next = { ...old, ...r };
  if (r.nanoCpus !== undefined) {
    delete next.cpuQuota;
    delete next.cpuPeriod;
  } else if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) {
    delete next.nanoCpus;
  }
  return next;
}

/** Gives container `ref` the limits `r`; returns its id. */
export async function updateContainer(
  e: Engine,
  ref: string,
  r: Resources,
): Promise<string> {
  if (Object.keys(r).length === 0) {
    throw invalid("you must provide at least one resource limit to update");
  }
  const store = containerStore(e);
  const c = store.find(ref);
  checkResources(r, c.host.resources);
  const refusal = limitRefusal({ ...c.host, resources: r });
  if (refusal) throw refusal;
  const next = await store.updateConfig(c.id, (c) => ({
    ...c,
    host: { ...c.host, resources: merge(c.host.resources ?? {}, r) },
  }));
  const s = await reconcile(store, c.id);
  const plan = cgroupPlan(c.id, next.host);
  if (plan && s.status === "running" && monitorAlive(s)) {
    setResources(plan.dir, next.host.resources!);
  }
  return c.id;
}
