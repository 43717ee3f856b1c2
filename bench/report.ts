/**
 * bench/RESULTS.md: when and where the figures were taken, one table row
 * per metric (median and interquartile range per engine, the ratio with its
 * spread, the target), then the first-run breakdown and the explanations.
 */
import { type Metric, ratioText, targetMet, targetText } from "./metric.ts";
import { fmt, type Summary } from "./stats.ts";

/** Where and with what the bench ran. */
export interface Host {
  date: string;
  nproc: number;
  kernel: string;
  cgroups: string;
  versions: Record<string, string>;
}

/** One phase of ptd's first run: its name and duration sample. */
export interface Phase {
  name: string;
  ms: Summary;
}

/** The traced phases of one command. */
export interface Breakdown {
  command: string;
  phases: Phase[];
}

function cell(s: Summary | undefined): string {
  return s ? `${fmt(s.median)} (${fmt(s.q1)}-${fmt(s.q3)})` : "not measured";
}

/** The host line that also heads the chart. */
export function hostLine(h: Host): string {
  return `${h.date}, ${h.nproc} CPUs, Linux ${h.kernel}, cgroups ${h.cgroups}`;
}

/**
 * Renders RESULTS.md; `findings` is the hand-written analysis of the misses
 * (bench/findings.md, Markdown), kept apart so a re-render keeps it.
 */
export function renderResults(
  h: Host,
  metrics: Metric[],
  breakdowns: Breakdown[],
  findings: string,
  how: string,
): string {
  const versions = Object.entries(h.versions)
    .map(([k, v]) => `${k} ${v}`).join(", ");
  const rows = metrics.map((m) => {
    const met = targetMet(m);
    const verdict = met === undefined ? "" : met ? " met" : " **missed**";
    return `| ${m.title} | ${m.unit} | ${cell(m.ptd)} | ${cell(m.podman)} | ${
      ratioText(m)
    } | ${targetText(m.target, m.unit)}${verdict} |`;
  });
  const notes = metrics.filter((m) => m.note)
    .map((m) => `- **${m.title}**: ${m.note}`);
  const tables = breakdowns.flatMap((b) => [
    `\`${b.command}\`:`,
    "",
    "| step | median ms | IQR |",
    "| --- | --- | --- |",
    ...b.phases.map((p) =>
      `| ${p.name} | ${fmt(p.ms.median)} | ${fmt(p.ms.q1)}-${fmt(p.ms.q3)} |`
    ),
    "",
  ]);
  return [
    "# ptd vs Podman: benchmark results",
    "",
    "Written by `deno task bench` (bench/main.ts); the chart is",
    "[results.svg](results.svg). Medians with the interquartile range in",
    "brackets; the ratio is ptd's median over Podman's, its range ptd's",
    "first quartile over Podman's third to ptd's third over Podman's first.",
    "",
    `- Date: ${h.date}`,
    `- Host: ${h.nproc} CPUs, Linux ${h.kernel}, cgroups ${h.cgroups}`,
    `- Versions: ${versions}`,
    `- How: ${how}`,
    "",
    "| metric | unit | ptd | Podman | ptd / Podman | target |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    ...(notes.length ? ["## Notes", "", ...notes, ""] : []),
    "## Where ptd's first run spends its time (PTD_TRACE=1)",
    "",
    "Time from one traced point to the next. `spawn` and `exit` are the",
    "bench's own marks around the command; `X-deno` is when process X's",
    "Deno runtime came up (performance.timeOrigin), `X-main` when main.ts",
    "began; a run -d's CLI exits after the monitor's `started` handshake, so",
    "its `exit` can come before the monitor's last marks.",
    "",
    ...tables,
    ...(findings
      ? ["## Why ptd misses where it misses", "", findings, ""]
      : []),
  ].join("\n");
}
