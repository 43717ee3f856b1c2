/**
 * The measurements, each one ptd beside Podman in the same sandbox, same
 * image, same flags. Both engines run with `--network none` (a loopback-only
 * network namespace): Podman's rootless default starts slirp4netns per
 * container, ptd's networking is measured on its own, not folded in here.
 */
import { hyperfine } from "./hyperfine.ts";
import { parentOf, pssMB, treePssMB } from "./memory.ts";
import type { Metric } from "./metric.ts";
import { type Sandbox, sh } from "./sandbox.ts";
import { fmt, summarize } from "./stats.ts";

/** How much to measure. */
export interface Plan {
  runs: number;
  warmup: number;
  pullRuns: number;
  idle: number;
  many: number;
}

/** What the engines run: an image reference, or `--rootfs DIR`. */
export type Image = string[];

const NET = ["--network", "none"];

/** Both engines' argv for the same subcommand. */
function both(
  sb: Sandbox,
  f: (engine: string[], name: "ptd" | "podman") => string[],
): Record<string, string> {
  return {
    ptd: f(sb.ptd, "ptd").join(" "),
    podman: f(sb.podman, "podman").join(" "),
  };
}

/** Times `commands` (ptd, podman) under `title`, as one metric. */
export async function timed(
  title: string,
  commands: Record<string, string>,
  opts: Parameters<typeof hyperfine>[1],
  extra: Partial<Metric>,
): Promise<Metric> {
  console.log(`\n## ${title}`);
  const t = await hyperfine(commands, opts);
  return {
    title,
    unit: "ms",
    ptd: summarize(t.ptd),
    podman: summarize(t.podman),
    ...extra,
  };
}

/** 1: `run --rm IMAGE true`. */
export function runRm(sb: Sandbox, image: Image, p: Plan): Promise<Metric> {
  return timed(
    "run --rm IMAGE true",
    both(sb, (e) => [...e, "run", "--rm", ...NET, ...image, "true"]),
    { runs: p.runs, warmup: p.warmup },
    { target: { kind: "ratio", max: 0.3 } },
  );
}

/** 2: `run -d` then `rm -f`, as one cycle. */
export function detachCycle(
  sb: Sandbox,
  image: Image,
  p: Plan,
): Promise<Metric> {
  return timed(
    "run -d + rm -f cycle",
    both(sb, (e, name) => {
      const run = [...e, "run", "-d", ...NET, ...image, "sleep", "600"];
      // Podman's rm -f stops with SIGTERM and a 10 s grace first, which a
      // PID 1 sleep ignores; -t 0 gives Docker's meaning (SIGKILL now).
      const rm = [...e, "rm", "-f", ...(name === "podman" ? ["-t", "0"] : [])];
      return ["id=$(" + run.join(" ") + ")", "&&", ...rm, "$id", ">/dev/null"];
    }),
    { runs: p.runs, warmup: p.warmup, shell: true },
    {
      target: { kind: "ratio", max: 0.3 },
      note: "Podman's `rm -f` is given `-t 0`: without it Podman waits its " +
        "10 s stop timeout for a PID 1 that ignores SIGTERM.",
    },
  );
}

/** Creates the network `name` with `engine` unless it exists. */
export async function ensureNetwork(engine: string[], name: string) {
  // Podman 4.3's create has no --ignore: a network left by an earlier
  // bench in this sandbox is fine.
  const have = (await sh([...engine, "network", "ls", "-q"])).split("\n");
  if (!have.includes(name)) await sh([...engine, "network", "create", name]);
}

/**
 * `run --rm --network NAME IMAGE true`: a container on a user-defined
 * network (ptd: the holder's user namespace, a veth, DNS; Podman: its
 * rootless network namespace), the network made first by each engine.
 */
export async function runRmNetwork(
  sb: Sandbox,
  image: Image,
  p: Plan,
): Promise<Metric> {
  for (const e of [sb.ptd, sb.podman]) await ensureNetwork(e, "benchnet");
  return await timed(
    "run --rm --network NAME IMAGE true",
    both(
      sb,
      (e) => [...e, "run", "--rm", "--network", "benchnet", ...image, "true"],
    ),
    { runs: p.runs, warmup: p.warmup },
    { target: { kind: "ratio", max: 0.5 } },
  );
}

/**
 * 3: pull + unpack of `ref` into an empty store each run. The previous
 * run's store is moved aside, not deleted: on a journal-less ext4 (this
 * host's /), creating files where many inodes were just freed is slow, as
 * ext4 will not reuse recently deleted inodes, and deleting 200 MB of
 * layers before every pull measured that effect (6-8 s of kernel time per
 * pull, for both engines) instead of the pulls. The stores go afterwards.
 */
export async function pull(
  sb: Sandbox,
  ref: string,
  p: Plan,
): Promise<Metric> {
  const dir = `${sb.dir}/pull`;
  const ptdStore = `${dir}/ptd`;
  const podStore = `${dir}/podman`;
  // hyperfine runs --prepare without a shell (-N): the loop is a script.
  const script = `${dir}/aside.sh`;
  await Deno.mkdir(`${dir}/old`, { recursive: true });
  await Deno.writeTextFile(
    script,
    `for d; do [ ! -e "$d" ] || mv "$d" "${dir}/old/$(basename "$d").$(date +%s%N)"; done\n`,
  );
  const aside = (...d: string[]) => ["sh", script, ...d].join(" ");
  try {
    return await timed(
      "pull + unpack (Debian minbase)",
      {
        ptd: ["env", `PTD_ROOT=${ptdStore}`, ...sb.ptd, "pull", "-q", ref]
          .join(" "),
        podman: [...sb.podmanAt(podStore), "pull", "-q", ref].join(" "),
      },
      {
        runs: p.pullRuns,
        warmup: 1,
        prepare: [aside(ptdStore), aside(podStore, `${podStore}-run`)],
      },
      {
        target: { kind: "ratio", max: 0.5 },
        note: "Each run pulls into a new, empty store; the last one is " +
          "moved aside, not deleted, as deleting 200 MB of layers right " +
          "before a pull slows the next pull's file creation on this " +
          "host's journal-less ext4 (both engines, 6-8 s each).",
      },
    );
  } finally {
    // Unpacked layers belong to subordinate ids: only the user namespace
    // can delete them, and podman unshare enters the same one for both.
    await sh([...sb.podman, "unshare", "rm", "-rf", dir]);
  }
}

/** Lets start-up garbage be collected and lazily touched pages settle. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 3000));
}

/** PSS of a Deno process that does nothing: the floor for a Deno monitor. */
async function idleDenoPss(dir: string): Promise<number> {
  await Deno.writeTextFile(`${dir}/idle.ts`, "setTimeout(() => {}, 1e9);\n");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `${dir}/idle.ts`],
  }).spawn();
  await settle();
  const pss = pssMB(child.pid);
  child.kill("SIGKILL");
  await child.status;
  return pss;
}

/** Starts `n` idle containers named `prefix-i`; returns their ids. */
async function startIdle(
  engine: string[],
  image: Image,
  prefix: string,
  from: number,
  n: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) {
    const name = `${prefix}-${i}`;
    const id = await sh([
      ...engine,
      "run",
      "-d",
      "--name",
      name,
      ...NET,
      ...image,
      "sleep",
      "3600",
    ]);
    ids.push(id.trim());
  }
  return ids;
}

async function pidOf(engine: string[], id: string): Promise<number> {
  return Number(
    (await sh([...engine, "inspect", "--format", "{{.State.Pid}}", id]))
      .trim(),
  );
}

/**
 * 4 and 5: memory of `p.idle` idle containers per engine (the monitor alone,
 * and everything that belongs to a container), then, with `p.many` running,
 * `ps` and `inspect`. Every container is removed afterwards.
 */
export async function manyContainers(
  sb: Sandbox,
  image: Image,
  p: Plan,
): Promise<Metric[]> {
  const mon: Record<string, number[]> = { ptd: [], podman: [] };
  const total: Record<string, number[]> = { ptd: [], podman: [] };
  const engines = { ptd: sb.ptd, podman: sb.podman };
  let idleDeno = 0;
  for (const [name, engine] of Object.entries(engines)) {
    console.log(`\nstarting ${p.idle} idle ${name} containers`);
    const ids = await startIdle(engine, image, "bench", 0, p.idle);
    // Let start-up garbage be collected and lazily touched pages settle.
    // Beside the monitors, so that it shares the deno binary's pages as
    // many ways as they do: PSS splits shared pages among their mappers.
    if (name === "ptd") idleDeno = await idleDenoPss(sb.dir);
    else await settle();
    for (const id of ids) {
      // The container's process is a child of ptd's monitor, and of conmon.
      const monitor = parentOf(await pidOf(engine, id));
      mon[name].push(pssMB(monitor));
      total[name].push(treePssMB(monitor));
    }
  }
  const memory: Metric[] = [
    {
      title: `monitor PSS (${p.idle} idle containers)`,
      unit: "MB",
      ptd: summarize(mon.ptd),
      podman: summarize(mon.podman),
      target: { kind: "absolute", max: 10 },
      note: "ptd's per-container monitor is a Deno process; Podman's is " +
        "conmon (C). PSS from /proc/PID/smaps_rollup. For scale, an idle " +
        `Deno (a script that only waits on a timer) measured here: ` +
        `${fmt(idleDeno)} MB.`,
    },
    {
      title: "memory per container",
      unit: "MB",
      ptd: summarize(total.ptd),
      podman: summarize(total.podman),
      note: "PSS of the monitor (ptd) or conmon (Podman) and all their " +
        "descendants. Podman's rootless pause process, shared by all its " +
        "containers, is not included.",
    },
  ];
  for (const [name, engine] of Object.entries(engines)) {
    console.log(`\nstarting ${p.many - p.idle} more ${name} containers`);
    await startIdle(engine, image, "bench", p.idle, p.many - p.idle);
  }
  const mid = `bench-${Math.floor(p.many / 2)}`;
  const listing = [
    await timed(
      `ps with ${p.many} running`,
      both(sb, (e) => [...e, "ps"]),
      { runs: p.runs, warmup: p.warmup },
      { target: { kind: "ratio", max: 0.5 } },
    ),
    await timed(
      `inspect with ${p.many} running`,
      both(sb, (e) => [...e, "inspect", mid]),
      { runs: p.runs, warmup: p.warmup },
      { target: { kind: "ratio", max: 0.5 } },
    ),
  ];
  await sb.removeContainers();
  return [...memory, ...listing];
}
