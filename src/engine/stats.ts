/**
 * The engine's `stats`: for each container, what its cgroup has used,
 * with CPU shares computed against the previous reading (or the start),
 * as Podman computes them. Plain numbers; the front end words them.
 */
import { cgroupPlan, hostDelegation } from "../cgroup/policy.ts";
import { type CgroupUsage, cgroupUsage, netUsage } from "../cgroup/usage.ts";
import { monitorAlive, reconcile } from "../container/liveness.ts";
import { invalid } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import { containerStore } from "./listing.ts";
import { selectContainers, type Selection } from "./selection.ts";

/** One container's reading; zeros for one that does not run. */
export interface ContainerStats extends CgroupUsage {
  id: string;
  name: string;
  running: boolean;
  /** When it was read, ms since the epoch. */
  at: number;
  /** CPU use since the previous reading (or the start), percent. */
  cpuPercent: number;
  /** CPU use since the start, percent. */
  avgCpu: number;
  memPercent: number;
  netInput: number;
  netOutput: number;
}

const IDLE: CgroupUsage = {
  cpuNano: 0,
  memUsage: 0,
  memLimit: 0,
  pids: 0,
  blockInput: 0,
  blockOutput: 0,
};

/**
 * Reads the containers `sel` names (with none named: the running ones, or
 * with --all every one); `previous` are the last readings, by id.
 */
export async function containerStats(
  e: Engine,
  sel: Selection,
  previous = new Map<string, ContainerStats>(),
): Promise<ContainerStats[]> {
  const why = hostDelegation();
  if ("reason" in why) {
    throw invalid(
      `stats is not supported in rootless mode without cgroups v2: ${why.reason}; fix (see ptd doctor): ${why.fix}`,
    );
  }
  const store = containerStore(e);
  const named = sel.refs.length > 0 || (sel.cidfiles ?? []).length > 0;
  const targets = await selectContainers(
    e,
    { ...sel, all: sel.all || (!named && !sel.latest) },
  );
  const out: ContainerStats[] = [];
  for (const { c } of targets) {
    const s = await reconcile(store, c.id);
    const running = s.status === "running" && monitorAlive(s);
    if (!running && !sel.all) {
      if (named) throw invalid(`container ${c.name} is not running`);
      continue;
    }
    const plan = running ? cgroupPlan(c.id, c.host) : undefined;
    const u = plan ? cgroupUsage(plan.dir) : IDLE;
    const [netInput, netOutput] = running ? netUsage(s.pid) : [0, 0];
    const at = Date.now();
    const started = Date.parse(s.startedAt);
    const prev = previous.get(c.id);
    const percent = (cpu: number, ms: number) =>
      ms > 0 ? cpu / (ms * 1e6) * 100 : 0;
    out.push({
      ...u,
      id: c.id,
      name: c.name,
      running,
      at,
      cpuPercent: prev
        ? percent(u.cpuNano - prev.cpuNano, at - prev.at)
        : percent(u.cpuNano, at - started),
      avgCpu: percent(u.cpuNano, at - started),
      memPercent: u.memLimit > 0 ? u.memUsage / u.memLimit * 100 : 0,
      netInput,
      netOutput,
    });
  }
  return out;
}
