/**
 * Timing through hyperfine: warm-up runs, many runs, and the raw times from
 * its JSON export, so the bench computes its own medians and ratios.
 */

/** How hyperfine should run one comparison. */
export interface HyperfineOptions {
  runs: number;
  warmup: number;
  /** Run before every timed run (and not timed), one per command. */
  prepare?: string[];
  /** Commands that need a shell ($(...), &&); otherwise -N (no shell). */
  shell?: boolean;
}

/** Runs a command line through sh; throws with its stderr on failure. */
async function once(line: string): Promise<void> {
  const out = await new Deno.Command("sh", {
    args: ["-c", line],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${line}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/**
 * Times each of `commands` (name -> command line); returns the times in
 * milliseconds per name. A failing command fails the bench: a timing of an
 * error is no timing. Each command first runs once untimed, so that a
 * failure comes with its error message (hyperfine swallows it).
 */
export async function hyperfine(
  commands: Record<string, string>,
  opts: HyperfineOptions,
): Promise<Record<string, number[]>> {
  const names = Object.keys(commands);
  for (const [i, n] of names.entries()) {
    const prepare = opts.prepare?.[i];
    if (prepare) await once(prepare);
    await once(commands[n]);
  }
  const json = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const args = [
      "--style",
      "basic",
      "--warmup",
      String(opts.warmup),
      "--runs",
      String(opts.runs),
      "--export-json",
      json,
      ...(opts.shell ? [] : ["-N"]),
      ...(opts.prepare ?? []).flatMap((p) => ["--prepare", p]),
      ...names.flatMap((n) => ["--command-name", n]),
      ...names.map((n) => commands[n]),
    ];
    const status = await new Deno.Command("hyperfine", {
      args,
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) throw new Error(`hyperfine failed: ${args.join(" ")}`);
    const report = JSON.parse(await Deno.readTextFile(json)) as {
      results: { command: string; times: number[] }[];
    };
    return Object.fromEntries(
      report.results.map((r) => [r.command, r.times.map((t) => t * 1000)]),
    );
  } finally {
    await Deno.remove(json);
  }
}
