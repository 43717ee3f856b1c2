/**
 * `ptd stats`: what running containers use, as Podman shows it (its
 * fields, units and JSON), once with --no-stream, else every --interval
 * seconds with the screen cleared between readings unless --no-reset.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import { type ContainerStats, containerStats } from "../engine/stats.ts";
import { headers, isJson, printReport } from "./format.ts";
import { collect, uintArg } from "./options.ts";

/** Docker's units.HumanSize: four significant digits, decimal units. */
function humanSize(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

const pair = (a: number, b: number) =>
  a === 0 && b === 0 ? "0B / 0B" : `${humanSize(a)} / ${humanSize(b)}`;

/** Podman's percentages: two decimals, "--" for nothing. */
const percent = (f: number) => f > 0 ? `${f.toFixed(2)}%` : "--";

/** Go's time.Duration.String() of `ns` nanoseconds. */
function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${ns / 1e6}ms`;
  let s = ns / 1e9;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${Number(s.toFixed(9))}s`;
  return h ? `${h}h${m}m${sec}` : m ? `${m}m${sec}` : sec;
}

/** A reading as Podman's template and JSON see it; ids short unless `full`. */
function view(s: ContainerStats, full = false) {
  return {
    ID: full ? s.id : s.id.slice(0, 12),
    Name: s.name,
    CPUPerc: percent(s.cpuPercent),
    MemUsage: pair(s.memUsage, s.memLimit),
    MemUsageBytes: `${humanSize(s.memUsage)} / ${humanSize(s.memLimit)}`,
    MemPerc: percent(s.memPercent),
    NetIO: pair(s.netInput, s.netOutput),
    BlockIO: pair(s.blockInput, s.blockOutput),
    PIDs: String(s.pids),
    CPU: goDuration(s.cpuNano),
    AVGCPU: percent(s.avgCpu),
  };
}

/** `--format json`: Podman's own keys for each reading. */
function jsonView(s: ContainerStats, full: boolean) {
  const v = view(s, full);
  return {
    id: v.ID,
    name: v.Name,
    cpu_time: v.CPU,
    cpu_percent: v.CPUPerc,
    avg_cpu: v.AVGCPU,
    mem_usage: v.MemUsage,
    mem_percent: v.MemPerc,
    net_io: v.NetIO,
    block_io: v.BlockIO,
    pids: v.PIDs,
  };
}

const DEFAULT_FORMAT =
  "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t" +
  "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.CPU}}\t{{.AVGCPU}}";

const STATS_HEADERS = headers(
  "ID Name CPUPerc MemUsage MemUsageBytes MemPerc NetIO BlockIO PIDs CPU AVGCPU",
  {
    CPUPerc: "cpu %",
    MemUsage: "mem usage / limit",
    MemUsageBytes: "mem usage / limit",
    MemPerc: "mem %",
    NetIO: "net io",
    BlockIO: "block io",
    PIDs: "pids",
    CPU: "cpu time",
    AVGCPU: "avg cpu %",
  },
);

interface StatsFlags {
  all?: boolean;
  latest?: boolean;
  format?: string;
  /** false with --no-stream (commander's negated flags). */
  stream: boolean;
  /** false with --no-reset. */
  reset: boolean;
  /** false with --no-trunc: full ids. */
  trunc: boolean;
  interval: number;
  filter: string[];
}

/** The `stats` command. */
export function statsCommand(): Command {
  return new Command("stats")
    .description("Display a live stream of container resource usage statistics")
    .argument("[containers...]", "names or ids (default: the running ones)")
    .option("-a, --all", "all containers, not only the running ones")
    .option("-l, --latest", "the latest container")
    .option("--format <format>", "json, or a Go template such as {{.MemUsage}}")
    .option("--no-stream", "print one reading and exit")
    .option("--no-reset", "do not clear the screen between readings")
    .option("--no-trunc", "do not truncate output")
    .option(
      "-i, --interval <seconds>",
      "seconds between readings",
      uintArg("--interval"),
      5,
    )
    .option("--filter <filter>", "filter the containers", collect, [])
    .action(async (refs: string[], f: StatsFlags) => {
      const e = userEngine();
      const format = f.format ?? DEFAULT_FORMAT;
      const json = isJson(format);
      const previous = new Map<string, ContainerStats>();
      const sel = { refs, all: f.all, latest: f.latest, filters: f.filter };
      const full = !f.trunc;
      for (;;) {
        const all = await containerStats(e, sel, previous);
        for (const s of all) previous.set(s.id, s);
        if (f.stream && f.reset) console.log("\x1b[2J\x1b[H");
        // Podman marshals a struct: its keys in their order, not sorted.
        if (json) {
          console.log(
            JSON.stringify(all.map((s) => jsonView(s, full)), null, " "),
          );
        } else {
          await printReport(format, all, {
            name: "stats",
            indent: " ",
            headers: STATS_HEADERS,
            view: (s) => view(s, full),
          });
        }
        if (!f.stream) return;
        await new Promise((ok) => setTimeout(ok, f.interval * 1000));
      }
    });
}
