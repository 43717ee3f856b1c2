/**
 * `deno task bench`: ptd and Podman side by side on this host, as the same
 * unprivileged user, and the results as bench/RESULTS.md and
 * bench/results.svg. Started as root, it re-runs itself as the test user
 * (scripts/as-test-user.sh) and copies the results back.
 *
 * Options: --runs N (timed runs per command, default 20), --warmup N (3),
 * --pull-runs N (10), --idle N (idle containers for memory, 10), --many N
 * (running containers for ps/inspect, 100), --out DIR (default bench/),
 * --render (only redraw RESULTS.md and the SVG from DIR/results.json),
 * --only network (only the network metrics, printed, nothing written:
 * `run --rm --network NAME`, iperf3, name resolution).
 */
import { parseArgs } from "node:util";
import { busyboxLayer, minbaseTar } from "../tests/fixtures.ts";
import { builds } from "./build.ts";
import { REPO } from "../tests/helpers.ts";
import { ociLayout, pushLayout } from "./images.ts";
import type { Metric } from "./metric.ts";
import { startRegistry } from "./registry.ts";
import {
  type Breakdown,
  type Host,
  hostLine,
  renderResults,
} from "./report.ts";
import { hybridCgroups, makeSandbox, type Sandbox, sh } from "./sandbox.ts";
import {
  detachCycle,
  type Image,
  manyContainers,
  type Plan,
  pull,
  runRm,
  runRmNetwork,
} from "./suite.ts";
import { apiRunRm } from "./api.ts";
import { networkMetrics } from "./network.ts";
import { barChart } from "./svg.ts";
import { phases, tracedRuns } from "./trace.ts";

/** Everything a report is drawn from, kept as results.json. */
interface Results {
  host: Host;
  how: string;
  metrics: Metric[];
  breakdowns: Breakdown[];
}

const FINDINGS = `${REPO}/bench/findings.md`;

async function firstLine(argv: string[]): Promise<string> {
  return (await sh(argv).catch(() => "?")).split("\n")[0].trim();
}

async function host(sb: Sandbox): Promise<Host> {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    nproc: navigator.hardwareConcurrency,
    kernel: Deno.osRelease(),
    cgroups: hybridCgroups() ? "hybrid (v1 + v2)" : "v2",
    versions: {
      ptd: (await firstLine([...sb.ptd, "--version"])).replace(
        /^ptd version /,
        "",
      ),
      deno: Deno.version.deno,
      podman: (await firstLine(["podman", "--version"])).replace(
        /^podman version /,
        "",
      ),
      runc: (await firstLine(["runc", "--version"])).replace(
        /^runc version /,
        "",
      ),
      conmon: (await firstLine(["conmon", "--version"])).replace(
        /^conmon version /,
        "",
      ),
      hyperfine: (await firstLine(["hyperfine", "--version"])).replace(
        /^hyperfine /,
        "",
      ),
    },
  };
}

/** Writes RESULTS.md and results.svg into `out` from `r`. */
async function render(out: string, r: Results): Promise<void> {
  const findings = await Deno.readTextFile(FINDINGS).catch(() => "");
  await Deno.writeTextFile(
    `${out}/RESULTS.md`,
    renderResults(r.host, r.metrics, r.breakdowns, findings.trim(), r.how),
  );
  await Deno.writeTextFile(
    `${out}/results.svg`,
    barChart(r.metrics, hostLine(r.host)),
  );
  // Committed files: keep `deno fmt --check` of the repository clean.
  await sh([
    Deno.execPath(),
    "fmt",
    "--quiet",
    `${out}/RESULTS.md`,
    `${out}/results.json`,
    `${out}/results.svg`,
  ]);
  console.log(`wrote ${out}/RESULTS.md and ${out}/results.svg`);
}

/**
 * Pushes busybox (and, `withMinbase`, minbase when the test cache has it) to the registry
 * and pulls busybox into both engines. Returns what `run` takes and the
 * minbase reference. `run IMAGE` falls back to `--rootfs DIR` on both
 * engines while ptd cannot run images.
 */
async function images(
  sb: Sandbox,
  registry: string,
  withMinbase = true,
): Promise<{ image: Image; minbase?: string; mode: string }> {
  const tar = await busyboxLayer(`${sb.dir}/busybox.tar`);
  await ociLayout(`${sb.dir}/busybox-oci`, tar, ["sh"]);
  const busybox = `${registry}/bench/busybox:latest`;
  await pushLayout(`${sb.dir}/busybox-oci`, busybox);
  let minbase: string | undefined;
  const minTar = withMinbase ? minbaseTar() : undefined;
  if (minTar) {
    console.log("packing the Debian minbase image (gzip)");
    await ociLayout(`${sb.dir}/minbase-oci`, minTar, ["bash"]);
    minbase = `${registry}/bench/minbase:latest`;
    await pushLayout(`${sb.dir}/minbase-oci`, minbase);
    await Deno.remove(`${sb.dir}/minbase-oci`, { recursive: true });
  }
  await sh([...sb.podman, "pull", "-q", busybox]);
  const viaImage = await sh([...sb.ptd, "pull", "-q", busybox])
    .then(() =>
      sh([...sb.ptd, "run", "--rm", "--network", "none", busybox, "true"])
    )
    .then(() => true, () => false);
  if (viaImage) return { image: [busybox], minbase, mode: "image" };
  const rootfs = `${sb.dir}/rootfs`;
  await Deno.mkdir(rootfs);
  await sh(["tar", "-C", rootfs, "-xf", tar]);
  return { image: ["--rootfs", rootfs], minbase, mode: "rootfs" };
}

/** 6: ptd's traced phases for a foreground and a detached run. */
async function breakdown(
  sb: Sandbox,
  image: Image,
  plan: Plan,
  file: string,
): Promise<Breakdown[]> {
  console.log("\n## first-run breakdown (PTD_TRACE=1)");
  const run = [...sb.ptd, "run", "--network", "none"];
  const commands: [string[], ((id: string) => Promise<unknown>)?][] = [
    [[...run, "--rm", ...image, "true"]],
    [
      [...run, "-d", ...image, "sleep", "600"],
      (id) => sh([...sb.ptd, "rm", "-f", id]),
    ],
  ];
  const out: Breakdown[] = [];
  for (const [argv, after] of commands) {
    await tracedRuns(argv, plan.warmup, file, after);
    const runs = await tracedRuns(argv, plan.runs, file, after);
    out.push({
      command: ["ptd", ...argv.slice(sb.ptd.length)].join(" "),
      phases: phases(runs),
    });
  }
  return out;
}

async function bench(plan: Plan, out: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ptd-bench-" });
  await Deno.mkdir(`${dir}/registry`);
  const registry = await startRegistry(`${dir}/registry`);
  const sb = await makeSandbox(dir, registry.host);
  try {
    const { image, minbase, mode } = await images(sb, registry.host);
    const metrics: Metric[] = [
      await runRm(sb, image, plan),
      await detachCycle(sb, image, plan),
      await apiRunRm(sb, image, plan),
      await runRmNetwork(sb, image, plan),
    ];
    if (minbase) {
      metrics.push(await pull(sb, minbase, plan));
      metrics.push(...await builds(sb, minbase, plan));
    } else {
      metrics.push({
        title: "pull + unpack (Debian minbase)",
        unit: "ms",
        note: "not measured: no minbase fixture (run the bench as root once, " +
          "or tests/make-minbase.sh as root).",
      });
    }
    metrics.push(...await networkMetrics(sb, plan));
    metrics.push(...await manyContainers(sb, image, plan));
    const breakdowns = await breakdown(sb, image, plan, `${dir}/trace`);
    const how = `\`deno task bench\` as uid ${Deno.uid()}, ` +
      `${plan.runs} runs after ${plan.warmup} warm-ups ` +
      `(pulls: ${plan.pullRuns} runs), ${
        mode === "image"
          ? "the same busybox image pulled by both engines from a loopback docker-registry"
          : "both engines on the same busybox --rootfs directory (ptd cannot run images yet)"
      }, \`--network none\` on both, Podman with ${
        hybridCgroups() ? "`--runtime runc`, " : ""
      }cgroupfs and its own temp storage.`;
    const results: Results = {
      host: await host(sb),
      how,
      metrics,
      breakdowns,
    };
    await Deno.writeTextFile(
      `${out}/results.json`,
      JSON.stringify(results, null, 2) + "\n",
    );
    await render(out, results);
  } finally {
    await sb.cleanup();
    await registry.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * `--only network`: the network metrics alone (`run --rm --network NAME`
 * with busybox, as in the full bench, then network.ts's), printed.
 */
async function networkOnly(plan: Plan): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ptd-bench-" });
  await Deno.mkdir(`${dir}/registry`);
  const registry = await startRegistry(`${dir}/registry`);
  const sb = await makeSandbox(dir, registry.host);
  try {
    const { image } = await images(sb, registry.host, false);
    const metrics = [
      await runRmNetwork(sb, image, plan),
      ...await networkMetrics(sb, plan),
    ];
    console.log(
      renderResults(await host(sb), metrics, [], "", "--only network"),
    );
  } finally {
    await sb.cleanup();
    await registry.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** As root: the same bench as the test user, results copied back here. */
async function asTestUser(args: string[], out: string): Promise<number> {
  const tmp = await Deno.makeTempDir({ prefix: "ptd-bench-out-" });
  await Deno.chmod(tmp, 0o777);
  const status = await new Deno.Command(`${REPO}/scripts/as-test-user.sh`, {
    // As scripts/setup.sh leaves it: ptd loading from its bundle.
    args: [
      "sh",
      "-c",
      'deno run -A scripts/bundle.ts && exec deno run -A bench/main.ts "$@"',
      "sh",
      ...args,
      "--out",
      tmp,
    ],
    env: { PTD_COPY_NAME: "ptd-bench-src" },
  }).spawn().status;
  // --only prints its figures and writes nothing.
  if (status.success && !args.some((a) => a.startsWith("--only"))) {
    for (const f of ["RESULTS.md", "results.svg", "results.json"]) {
      await Deno.copyFile(`${tmp}/${f}`, `${out}/${f}`);
    }
  }
  await Deno.remove(tmp, { recursive: true });
  return status.code;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "20" },
      warmup: { type: "string", default: "3" },
      "pull-runs": { type: "string", default: "10" },
      idle: { type: "string", default: "10" },
      many: { type: "string", default: "100" },
      out: { type: "string", default: `${REPO}/bench` },
      render: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  const out = values.out;
  if (values.render) {
    await render(
      out,
      JSON.parse(await Deno.readTextFile(`${out}/results.json`)),
    );
  } else if (Deno.uid() === 0) {
    const passOn = Deno.args.filter((a, i, all) =>
      a !== "--out" && all[i - 1] !== "--out" && !a.startsWith("--out=")
    );
    Deno.exit(await asTestUser(passOn, out));
  } else {
    const plan: Plan = {
      runs: Number(values.runs),
      warmup: Number(values.warmup),
      pullRuns: Number(values["pull-runs"]),
      idle: Number(values.idle),
      many: Math.max(Number(values.many), Number(values.idle)),
    };
    if (values.only === "network") {
      await networkOnly(plan);
      Deno.exit(0);
    }
    // Fail now, not after ten minutes of measuring.
    try {
      await Deno.remove(await Deno.makeTempFile({ dir: out }));
    } catch {
      console.error(`error: cannot write to ${out}; pass --out DIR`);
      Deno.exit(2);
    }
    await bench(plan, out);
  }
}
