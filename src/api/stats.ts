/**
 * `GET /containers/:id/stats`, one-shot or streamed every second, in
 * Docker's shape: the container's cgroup figures (src/engine/stats.ts)
 * where the host delegates cgroup v2 to the user; zeros elsewhere, and the
 * service says so once, as rootless Podman has no figures there either.
 * Docker's client computes CPU % against the host's CPU time, so each
 * document carries it (and the previous reading's) too.
 */
import { hostDelegation } from "../cgroup/policy.ts";
import { isActive } from "../container/liveness.ts";
import type { Engine } from "../engine/engine.ts";
import { containerWithState } from "../engine/listing.ts";
import { type ContainerStats, containerStats } from "../engine/stats.ts";
import { flag, json } from "./reply.ts";
import type { Route } from "./router.ts";

let warned = false;

/** The host's CPU time so far, in ns (the first line of /proc/stat). */
function systemCpuNano(): number {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
  const jiffies = line.trim().split(/\s+/).slice(1, 8).map(Number);
  // USER_HZ is 100 on every Linux ptd runs on.
  return jiffies.reduce((a, b) => a + b, 0) * 1e7;
}

/** One reading: the container's figures and the host's CPU time. */
export interface Reading {
  at: string;
  system: number;
  s?: ContainerStats;
  pids: number;
}

/** The container's reading now; `prev` keeps the CPU shares going. */
async function read(
  e: Engine,
  id: string,
  prev?: Reading,
): Promise<Reading> {
  const at = new Date().toISOString();
  if ("reason" in hostDelegation()) {
    if (!warned) {
      console.error(
        "WARNING: no cgroup v2 delegation on this host: container stats are zeros",
      );
      warned = true;
    }
    const { state } = await containerWithState(e, id);
    return { at, system: 0, pids: isActive(state) ? 1 : 0 };
  }
  const previous = new Map(prev?.s ? [[id, prev.s]] : []);
  const [s] = await containerStats(e, { refs: [id], all: true }, previous);
  return { at, system: systemCpuNano(), s, pids: s.pids };
}

const cpuStats = (r: Reading | undefined) => ({
  cpu_usage: {
    total_usage: r?.s?.cpuNano ?? 0,
    usage_in_kernelmode: 0,
    usage_in_usermode: 0,
  },
  system_cpu_usage: r?.system ?? 0,
  online_cpus: navigator.hardwareConcurrency,
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

/** Docker's stats document of reading `r` after `prev`. */
export function statsDoc(id: string, name: string, r: Reading, prev?: Reading) {
  const s = r.s;
  return {
    id,
    name: `/${name}`,
    read: r.at,
    preread: prev?.at ?? "0001-01-01T00:00:00Z",
    pids_stats: { current: r.pids },
    cpu_stats: cpuStats(r),
    precpu_stats: cpuStats(prev),
    memory_stats: {
      usage: s?.memUsage ?? 0,
      limit: s?.memLimit || Deno.systemMemoryInfo().total,
      stats: {},
    },
    blkio_stats: {
      io_service_bytes_recursive: s
        ? [
          { major: 0, minor: 0, op: "read", value: s.blockInput },
          { major: 0, minor: 0, op: "write", value: s.blockOutput },
        ]
        : null,
    },
    networks: s?.running
      ? { eth0: { rx_bytes: s.netInput, tx_bytes: s.netOutput } }
      : {},
  };
}

const enc = new TextEncoder();

/** The stats route. */
export const statsRoutes: Route[] = [
  ["GET", "/containers/:id/stats", async ({ e, req, params }) => {
    const { c } = await containerWithState(e, params.id);
    const once = req.query.get("stream") === "0" ||
      req.query.get("stream") === "false" || flag(req, "one-shot");
    const first = await read(e, c.id);
    if (once) {
      // Docker's one reading has a previous one a second before (its
      // CPU % is the difference), unless one-shot asks for none.
      if (flag(req, "one-shot") || !first.s) {
        return json(statsDoc(c.id, c.name, first));
      }
      await new Promise((ok) => setTimeout(ok, 1000));
      return json(statsDoc(c.id, c.name, await read(e, c.id, first), first));
    }
    return {
      status: 200,
      headers: { "Content-Type": "application/json" },
      body: (async function* () {
        let prev: Reading | undefined;
        for (let r = first; !req.signal.aborted;) {
          yield enc.encode(
            JSON.stringify(statsDoc(c.id, c.name, r, prev)) + "\n",
          );
          await new Promise((ok) => setTimeout(ok, 1000));
          [prev, r] = [r, await read(e, c.id, r)];
        }
      })(),
    };
  }],
];
