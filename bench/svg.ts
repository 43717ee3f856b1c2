/**
 * The bar chart of bench/results.svg: one row per metric, a ptd bar above a
 * Podman bar, each bar the median with a whisker over the interquartile
 * range. Metrics have different units, so every row has its own scale; the
 * ratio and the target sit at the right, where the eye ends.
 */
import { type Metric, metricRatio, targetMet, targetText } from "./metric.ts";
import { fmt, type Summary } from "./stats.ts";

const WIDTH = 1040;
const LABEL_W = 300;
const BAR_W = 420;
const ROW_H = 62;
const TOP = 70;
const COLORS = { ptd: "#1f77b4", podman: "#8e44ad" };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function bar(
  y: number,
  s: Summary | undefined,
  scale: number,
  color: string,
  unit: string,
): string {
  if (!s) {
    return `<text x="${LABEL_W + 4}" y="${
      y + 13
    }" class="na">not measured</text>`;
  }
  const x = (v: number) => LABEL_W + v * scale;
  const mid = y + 9;
  return [
    `<rect x="${LABEL_W}" y="${y}" width="${
      (s.median * scale).toFixed(1)
    }" height="18" fill="${color}"/>`,
    `<line x1="${x(s.q1).toFixed(1)}" x2="${
      x(s.q3).toFixed(1)
    }" y1="${mid}" y2="${mid}" class="iqr"/>`,
    `<text x="${(x(Math.max(s.q3, s.median)) + 6).toFixed(1)}" y="${y + 14}">${
      esc(`${fmt(s.median)} ${unit}`)
    }</text>`,
  ].join("");
}

/** The chart for `metrics`, as an SVG document; `subtitle` names the host. */
export function barChart(metrics: Metric[], subtitle: string): string {
  const height = TOP + metrics.length * ROW_H + 40;
  const rows = metrics.map((m, i) => {
    const y = TOP + i * ROW_H;
    const top = Math.max(m.ptd?.q3 ?? 0, m.podman?.q3 ?? 0, 1e-9);
    const scale = BAR_W * 0.8 / top;
    const r = metricRatio(m);
    const met = targetMet(m);
    const verdict = met === undefined ? "" : met ? " met" : " missed";
    const right = LABEL_W + BAR_W + 90;
    return [
      `<text x="8" y="${y + 16}" class="label">${esc(m.title)}</text>`,
      `<text x="8" y="${y + 34}" class="unit">${esc(m.unit)}</text>`,
      bar(y, m.ptd, scale, COLORS.ptd, m.unit),
      bar(y + 22, m.podman, scale, COLORS.podman, m.unit),
      `<text x="${right}" y="${y + 16}" class="ratio">${
        r ? `${fmt(r.median)}x` : ""
      }</text>`,
      m.target
        ? `<text x="${right}" y="${y + 34}" class="${
          met === false ? "miss" : "ok"
        }">${esc(`target ${targetText(m.target, m.unit)}${verdict}`)}</text>`
        : "",
      `<line x1="0" x2="${WIDTH}" y1="${y + ROW_H - 8}" y2="${
        y + ROW_H - 8
      }" class="grid"/>`,
    ].join("\n");
  });
  const legendY = 48;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">
<style>
.label{font-weight:bold}.unit,.na{fill:#666}.ratio{font-weight:bold;font-size:15px}
.ok{fill:#2e7d32}.miss{fill:#c62828}.iqr{stroke:#000;stroke-width:2}.grid{stroke:#ddd}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="24" font-size="18" font-weight="bold">ptd vs Podman (median, whisker = interquartile range; shorter is better)</text>
<text x="8" y="${legendY - 6}" class="unit">${esc(subtitle)}</text>
<rect x="${LABEL_W}" y="${legendY}" width="14" height="12" fill="${COLORS.ptd}"/>
<text x="${LABEL_W + 20}" y="${legendY + 11}">ptd</text>
<rect x="${
    LABEL_W + 70
  }" y="${legendY}" width="14" height="12" fill="${COLORS.podman}"/>
<text x="${LABEL_W + 90}" y="${legendY + 11}">Podman</text>
<text x="${LABEL_W + BAR_W + 90}" y="${
    legendY + 11
  }" class="unit">ptd / Podman</text>
${rows.join("\n")}
<text x="8" y="${
    height - 14
  }" class="unit">Each row has its own scale; ratios below 1 mean ptd is faster or smaller.</text>
</svg>
`;
}
