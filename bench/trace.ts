/**
 * ptd's first-run breakdown from its opt-in trace: with PTD_TRACE=1 and
 * PTD_TRACE_FILE set, each ptd process (CLI, monitor, init) appends lines
 * `ptd-trace <phase> <epoch-ms>`. The bench brackets them with its own
 * "spawn" and "exit" marks and turns each run into phase durations.
 */
import { summarize } from "./stats.ts";
import type { Phase } from "./report.ts";

/** One traced point. */
export interface Mark {
  phase: string;
  at: number;
}

/** Parses trace lines, ignoring anything else (the container's output). */
export function parseTrace(text: string): Mark[] {
  const marks: Mark[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^ptd-trace (\S+) (\d+(?:\.\d+)?)$/);
    if (m) marks.push({ phase: m[1], at: Number(m[2]) });
  }
  return marks;
}

/**
 * Durations between consecutive marks, named "from -> to", over many runs:
 * the median per step, in the order of the first run. Steps a run lacks
 * are left out of that run's sample rather than guessed.
 */
export function phases(runs: Mark[][]): Phase[] {
  const samples = new Map<string, number[]>();
  for (const run of runs) {
    const sorted = [...run].sort((a, b) => a.at - b.at);
    for (let i = 1; i < sorted.length; i++) {
      const name = `${sorted[i - 1].phase} -> ${sorted[i].phase}`;
      samples.set(name, [
        ...(samples.get(name) ?? []),
        sorted[i].at - sorted[i - 1].at,
      ]);
    }
  }
  return [...samples].map(([name, ms]) => ({ name, ms: summarize(ms) }));
}

/**
 * Runs `argv` `runs` times with the trace on; returns each run's marks,
 * bracketed by "spawn" and "exit" as this process saw them. `after` gets
 * each run's stdout (a detached run's id) and undoes the run, untimed.
 */
export async function tracedRuns(
  argv: string[],
  runs: number,
  file: string,
  after?: (stdout: string) => Promise<unknown>,
): Promise<Mark[][]> {
  const all: Mark[][] = [];
  for (let i = 0; i < runs; i++) {
    await Deno.writeTextFile(file, "");
    const spawn = performance.timeOrigin + performance.now();
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: { PTD_TRACE: "1", PTD_TRACE_FILE: file },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const exit = performance.timeOrigin + performance.now();
    await after?.(new TextDecoder().decode(out.stdout).trim());
    if (!out.success) {
      throw new Error(
        `${argv.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    all.push([
      { phase: "spawn", at: spawn },
      ...parseTrace(await Deno.readTextFile(file)),
      { phase: "exit", at: exit },
    ]);
  }
  return all;
}
