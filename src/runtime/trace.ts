/**
 * Opt-in timing marks for the bench's first-run breakdown. With PTD_TRACE=1
 * every ptd process (CLI, monitor, init) writes `ptd-trace <phase>
 * <epoch-ms>` lines to stderr, or appends them to the file PTD_TRACE_FILE
 * names. Off, a mark costs one comparison: the environment is read once.
 */
const target = Deno.env.get("PTD_TRACE") === "1"
  ? Deno.env.get("PTD_TRACE_FILE") || "stderr"
  : undefined;

// Opened at the first mark and kept: init pivots into the container's root
// after its first mark, where the file's path no longer resolves. Kept on
// globalThis: the bundle (lazy.ts) has a copy of this module of its own.
const OUT = Symbol.for("ptd.trace");
const shared = globalThis as {
  [OUT]?: { writeSync(p: Uint8Array): number };
};

/** Records that `phase` happened at `at` (default now), when tracing. */
export function trace(
  phase: string,
  at = performance.timeOrigin + performance.now(),
): void {
  if (target === undefined) return;
  const out = shared[OUT] ??= target === "stderr"
    ? Deno.stderr
    : Deno.openSync(target, { append: true, create: true });
  out.writeSync(
    new TextEncoder().encode(`ptd-trace ${phase} ${at.toFixed(1)}\n`),
  );
}
