import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "../assert.ts";
import { fmt, ratio, summarize } from "../../bench/stats.ts";
import type { Metric } from "../../bench/metric.ts";
import { targetMet } from "../../bench/metric.ts";
import { barChart } from "../../bench/svg.ts";
import { parseTrace, phases } from "../../bench/trace.ts";

Deno.test("summarize: quartiles interpolate like hyperfine, input untouched", () => {
  const xs = [5, 1, 4, 2, 3];
  assertEquals(summarize(xs), {
    n: 5,
    min: 1,
    q1: 2,
    median: 3,
    q3: 4,
    max: 5,
  });
  assertEquals(xs, [5, 1, 4, 2, 3]);
  assertEquals(summarize([1, 2, 3, 4]).median, 2.5);
  assertEquals(summarize([7]).q3, 7);
  assertThrows(() => summarize([]), /empty/);
});

Deno.test("ratio: medians, and a range from the quartiles", () => {
  const r = ratio(summarize([1, 2, 3, 4, 5]), summarize([10, 20, 30, 40, 50]));
  assertEquals(r, { median: 0.1, lo: 2 / 40, hi: 4 / 20 });
});

Deno.test("fmt: about three significant digits", () => {
  assertEquals([1234.5, 21.14, 1.234, 0.1234].map(fmt), [
    "1235",
    "21.1",
    "1.23",
    "0.123",
  ]);
});

Deno.test("targets: ratios compare medians, absolute ones ptd alone", () => {
  const s = (x: number) => summarize([x]);
  const m: Metric = { title: "t", unit: "ms", ptd: s(3), podman: s(10) };
  assertEquals(targetMet({ ...m, target: { kind: "ratio", max: 0.3 } }), true);
  assertEquals(targetMet({ ...m, target: { kind: "ratio", max: 0.2 } }), false);
  assertEquals(
    targetMet({ ...m, target: { kind: "absolute", max: 2 } }),
    false,
  );
  assertEquals(targetMet(m), undefined);
  assertEquals(targetMet({ title: "t", unit: "ms" }), undefined);
});

Deno.test("trace: lines parsed among other output, steps in time order", () => {
  const marks = parseTrace(
    "hello\nptd-trace cli-start 1000.5\nptd-trace exec 1010\nptd-trace x\n",
  );
  assertEquals(marks, [
    { phase: "cli-start", at: 1000.5 },
    { phase: "exec", at: 1010 },
  ]);
  const p = phases([
    [{ phase: "spawn", at: 990 }, ...marks],
    [{ phase: "exec", at: 30 }, { phase: "spawn", at: 0 }, {
      phase: "cli-start",
      at: 10,
    }],
  ]);
  assertEquals(p.map((x) => x.name), [
    "spawn -> cli-start",
    "cli-start -> exec",
  ]);
  assertEquals(p[0].ms.median, 10.25);
  assertEquals(p[1].ms.n, 2);
});

Deno.test("chart: a bar per measured side, escaped titles, a verdict", () => {
  const svg = barChart([
    {
      title: "ps <100> & co",
      unit: "ms",
      ptd: summarize([10, 20, 30]),
      podman: summarize([40]),
      target: { kind: "ratio", max: 0.5 },
    },
    { title: "pull", unit: "ms", note: "no fixture" },
  ], "host");
  assertMatch(svg, /^<svg [^>]*viewBox="0 0 1040 \d+"/);
  assertStringIncludes(svg, "ps &lt;100&gt; &amp; co");
  assertStringIncludes(svg, "0.500x");
  assertStringIncludes(svg, "target &lt;= 0.5x met");
  assertEquals(svg.match(/not measured/g)?.length, 2);
  assert(svg.trimEnd().endsWith("</svg>"));
});
