/**
 * The network metrics, ptd beside Podman, each engine on a user-defined
 * network of its own making: iperf3 TCP throughput between two containers
 * on that network and from the host to a published port, and the time a
 * container on it takes to resolve another's name. `deno task bench
 * --only network` runs these alone. Throughput: higher is better, so the
 * ratio (ptd over Podman) should be at least 1; nothing is asserted.
 */
import type { Metric } from "./metric.ts";
import { type Sandbox, sh } from "./sandbox.ts";
import { summarize } from "./stats.ts";
import { ensureNetwork, type Plan } from "./suite.ts";

const NET = "benchnet";
/** Seconds per iperf3 run. */
const SECONDS = 3;
/** Name lookups per sample. */
const LOOKUPS = 20;

/**
 * A root with Debian's iperf3 (the host's package), dash, getent and date
 * and the libraries they load, copied as they are: the same binaries for
 * both engines, and no image to build or pull.
 */
async function iperfRoot(dir: string): Promise<string> {
  const root = `${dir}/iperf-root`;
  const bins = ["/usr/bin/iperf3", "/bin/sh", "/usr/bin/getent", "/bin/date"];
  const libs = new Set<string>();
  for (const b of bins) {
    for (const m of (await sh(["ldd", b])).matchAll(/(\/\S+) \(0x/g)) {
      libs.add(m[1]);
    }
  }
  await Deno.mkdir(`${root}/etc`, { recursive: true });
  await Deno.mkdir(`${root}/tmp`);
  await sh(["cp", "-L", "--parents", ...bins, ...libs, root]);
  return root;
}

type Engine = { name: "ptd" | "podman"; argv: string[] };

const engines = (sb: Sandbox): Engine[] => [
  { name: "ptd", argv: sb.ptd },
  { name: "podman", argv: sb.podman },
];

/** The address of container `name` on the bench's network. */
async function addressOf(e: Engine, name: string): Promise<string> {
  const doc = JSON.parse(await sh([...e.argv, "inspect", name]))[0];
  return doc.NetworkSettings.Networks[NET].IPAddress;
}

/** Gbit/s an iperf3 client run (its JSON report) received. */
async function iperf(argv: string[]): Promise<number> {
  // The server may still be starting: a refused first run is retried.
  for (let attempt = 0;; attempt++) {
    try {
      const r = JSON.parse(await sh(argv));
      return r.end.sum_received.bits_per_second / 1e9;
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((ok) => setTimeout(ok, 300));
    }
  }
}

/**
 * `runs` samples of `fn` per engine, ptd and Podman alternated (a noisy
 * host), as a metric; an engine that failed is left out, with why.
 */
async function metric(
  sb: Sandbox,
  runs: number,
  m: Omit<Metric, "ptd" | "podman">,
  fn: (e: Engine) => Promise<number>,
): Promise<Metric> {
  console.log(`\n## ${m.title}`);
  const xs: Record<string, number[]> = { ptd: [], podman: [] };
  const failed: Record<string, string> = {};
  for (let i = 0; i < runs; i++) {
    for (const e of engines(sb)) {
      if (failed[e.name]) continue;
      try {
        xs[e.name].push(await fn(e));
      } catch (err) {
        failed[e.name] = `${e.name} not measured: ${(err as Error).message}`;
      }
    }
  }
  const out: Metric = { ...m };
  for (const e of engines(sb)) {
    console.log(
      failed[e.name] ??
        `${e.name}: ${xs[e.name].map((x) => x.toFixed(2)).join(" ")}`,
    );
    if (!failed[e.name]) out[e.name] = summarize(xs[e.name]);
  }
  const notes = [m.note, ...Object.values(failed)].filter((x) => x);
  return { ...out, note: notes.join(" ") };
}

/**
 * The network metrics: a server container (iperf3 -s, port 5201 also
 * published on 127.0.0.1), a client container per run, and a container
 * that resolves the server's name.
 */
export async function networkMetrics(
  sb: Sandbox,
  p: Plan,
): Promise<Metric[]> {
  const root = await iperfRoot(sb.dir);
  const runs = Math.max(1, Math.min(p.runs, 5));
  const ports: Record<string, number> = { ptd: 25201, podman: 25202 };
  for (const e of engines(sb)) {
    await ensureNetwork(e.argv, NET);
    await sh([
      ...e.argv,
      "run",
      "-d",
      "--name",
      "ipsrv",
      "--network",
      NET,
      "-p",
      `127.0.0.1:${ports[e.name]}:5201`,
      "--rootfs",
      root,
      "iperf3",
      "-s",
    ]);
    await sh([
      ...e.argv,
      "run",
      "-d",
      "--name",
      "resolver",
      "--network",
      NET,
      "--rootfs",
      root,
      "iperf3",
      "-s",
    ]);
  }
  try {
    const between = await metric(
      sb,
      runs,
      {
        title: "iperf3 TCP, container to container on one network",
        unit: "Gbit/s",
        note: "Higher is better: the ratio should be at least 1.",
      },
      async (e) =>
        iperf([
          ...e.argv,
          "run",
          "--rm",
          "--network",
          NET,
          "--rootfs",
          root,
          "iperf3",
          "-c",
          await addressOf(e, "ipsrv"),
          "-t",
          String(SECONDS),
          "-J",
        ]),
    );
    const published = await metric(
      sb,
      runs,
      {
        title: "iperf3 TCP, host to a published port",
        unit: "Gbit/s",
        note: "Higher is better: the ratio should be at least 1.",
      },
      (e) =>
        iperf([
          "iperf3",
          "-c",
          "127.0.0.1",
          "-p",
          String(ports[e.name]),
          "-t",
          String(SECONDS),
          "-J",
        ]),
    );
    const resolve = await metric(
      sb,
      runs,
      {
        title: "resolving another container's name on a network",
        unit: "ms",
        note: `${LOOKUPS} \`getent hosts ipsrv\` in a running container ` +
          "on the network, per lookup.",
      },
      async (e) => {
        const script = `s=$(date +%s%N); i=0; while [ $i -lt ${LOOKUPS} ]; ` +
          "do getent hosts ipsrv >/dev/null || exit 1; i=$((i+1)); done; " +
          "echo $(( $(date +%s%N) - s ))";
        try {
          const ns = await sh([
            ...e.argv,
            "exec",
            "resolver",
            "sh",
            "-c",
            script,
          ]);
          return Number(ns.trim()) / 1e6 / LOOKUPS;
        } catch {
          throw new Error("the name does not resolve (no DNS on its network)");
        }
      },
    );
    return [between, published, resolve];
  } finally {
    for (const e of engines(sb)) {
      await sh([...e.argv, "rm", "-f", "ipsrv", "resolver"]).catch(() => {});
    }
  }
}
