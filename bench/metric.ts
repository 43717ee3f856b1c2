/**
 * One measured quantity, ptd beside Podman, with the project's target for
 * it. The report and the chart are both drawn from a list of these.
 */
import { fmt, type Ratio, ratio, type Summary } from "./stats.ts";

/** What the project brief promises for a metric. */
export interface Target {
  /** "ratio": ptd/Podman at most `max`; "absolute": ptd's median at most `max`. */
  kind: "ratio" | "absolute";
  max: number;
}

/** A metric; a side is missing when it could not be measured (see `note`). */
export interface Metric {
  title: string;
  unit: string;
  ptd?: Summary;
  podman?: Summary;
  target?: Target;
  /** What the figure means or why it is missing, for the report. */
  note?: string;
}

/** ptd over Podman, when both sides were measured. */
export function metricRatio(m: Metric): Ratio | undefined {
  return m.ptd && m.podman ? ratio(m.ptd, m.podman) : undefined;
}

/** Whether the target is met: undefined without a target or a figure. */
export function targetMet(m: Metric): boolean | undefined {
  if (!m.target || !m.ptd) return undefined;
  if (m.target.kind === "absolute") return m.ptd.median <= m.target.max;
  const r = metricRatio(m);
  return r ? r.median <= m.target.max : undefined;
}

/** The target as text: "<= 0.3x" or "<= 10 MB". */
export function targetText(t: Target | undefined, unit: string): string {
  if (!t) return "-";
  return t.kind === "ratio" ? `<= ${t.max}x` : `<= ${t.max} ${unit}`;
}

/** The ratio as text with its spread: "0.52x (0.48-0.57)". */
export function ratioText(m: Metric): string {
  const r = metricRatio(m);
  return r ? `${fmt(r.median)}x (${fmt(r.lo)}-${fmt(r.hi)})` : "-";
}
