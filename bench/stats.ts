/**
 * Statistics for the bench: a sample is summarised by its median and
 * quartiles (robust on a busy 2-core machine, where a few runs always land
 * on a neighbour's compile), and two engines are compared by a ratio whose
 * spread comes from those quartiles.
 */

/** Five numbers that describe a sample. */
export interface Summary {
  n: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** The q-quantile of sorted `xs`, linearly interpolated (hyperfine's way). */
function quantile(xs: number[], q: number): number {
  const pos = (xs.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo);
}

/** Summarises a non-empty sample. */
export function summarize(sample: number[]): Summary {
  if (sample.length === 0) throw new Error("empty sample");
  const xs = [...sample].sort((a, b) => a - b);
  return {
    n: xs.length,
    min: xs[0],
    q1: quantile(xs, 0.25),
    median: quantile(xs, 0.5),
    q3: quantile(xs, 0.75),
    max: xs[xs.length - 1],
  };
}

/** ptd over Podman: the ratio of medians and a conservative range. */
export interface Ratio {
  median: number;
  /** ptd's first quartile over Podman's third: the best case for ptd. */
  lo: number;
  /** ptd's third quartile over Podman's first: the worst case for ptd. */
  hi: number;
}

/** Compares sample `a` (ptd) with sample `b` (Podman). */
export function ratio(a: Summary, b: Summary): Ratio {
  return {
    median: a.median / b.median,
    lo: a.q1 / b.q3,
    hi: a.q3 / b.q1,
  };
}

/** A number with about three significant digits, for tables and labels. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}
