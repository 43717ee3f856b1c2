/**
 * Running a container's health check once: `ptd healthcheck run`, and
 * the short-lived `ptd health-check ID` its parent starts every interval
 * (health_timer.ts), as Podman's systemd timer runs its healthcheck run, so
 * the long-lived parent never holds this code nor the garbage of a check.
 * A check is an exec (exec.ts) with its output caught; one that outlives
 * its timeout is killed with every process it started. The results
 * (Podman's State.Health) go into state.json; a check that leaves the
 * container unhealthy applies --health-on-failure.
 */
import { openRaw, pipeFromChild } from "../../ffi/fd.ts";
import { emitContainerEvent } from "../events/emit.ts";
import { eventTime } from "../events/record.ts";
import { signalProcess } from "../runtime/create.ts";
import type { ContainerConfig } from "./config.ts";
import { execWithStdio } from "./exec.ts";
import {
  goDurationString,
  healthCommand,
  type HealthLog,
  type HealthState,
  startingHealth,
} from "./health_config.ts";
import { processStart } from "./liveness.ts";
import { parseSignal } from "./signals.ts";
import { ContainerStore } from "./store.ts";
import { storePaths } from "../storage/paths.ts";

const SIGSTOP = 19;
const SIGKILL = 9;
/** Podman keeps the last 5 results, each output cut to 500 bytes. */
const KEEP_LOGS = 5;
const MAX_OUTPUT = 500;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** pid -> its children, from /proc (host pids). */
function childrenMap(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      kids.set(ppid, [...kids.get(ppid) ?? [], Number(e.name)]);
    } catch { /* gone meanwhile */ }
  }
  return kids;
}

/**
 * Kills `root` and everything it started. Each is stopped first, until no
 * new one appears, so none can fork or be re-parented out of reach while
 * the tree is collected; then all are killed.
 */
function killTree(root: number): void {
  const seen = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const kids = childrenMap();
    const found: number[] = [];
    const walk = (pid: number) => {
      if (!seen.has(pid)) found.push(pid);
      for (const k of kids.get(pid) ?? []) walk(k);
    };
    walk(root);
    if (found.length === 0) break;
    for (const pid of found) {
      signalProcess(pid, SIGSTOP);
      seen.add(pid);
    }
  }
  for (const pid of seen) signalProcess(pid, SIGKILL);
}

/** What one check did. */
interface CheckRun {
  log: HealthLog;
  passed: boolean;
}

/** Runs the check once in the running container and catches its output. */
async function runCheck(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<CheckRun> {
  const h = c.host.healthcheck!;
  const timeout = h.Timeout ?? 30e9;
  const Start = eventTime();
  const out = pipeFromChild(true);
  const stdio: [number, number, number] = [
    openRaw("/dev/null"),
    out.write,
    openRaw(`/proc/self/fd/${out.write}`, "readwrite"),
  ];
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const reading = (async () => {
    for await (const chunk of out.file.readable) chunks.push(chunk);
  })().catch(() => {});
  let timedOut = false, timer: ReturnType<typeof setTimeout> | undefined;
  let code: number, error = "";
  try {
    code = await execWithStdio(store, c, healthCommand(h), stdio, (pid) => {
      timer = setTimeout(() => {
        timedOut = true;
        killTree(pid);
      }, timeout / 1e6);
    });
  } catch (e) {
    code = 1;
    error = e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }
  // A process the check left in the background may hold the pipe open.
  await Promise.race([reading, sleep(100)]);
  try {
    out.file.close();
  } catch { /* closed by the reader's end */ }
  let output = error ||
    (await new Blob(chunks).text()).replace(/\n$/, "");
  if (timedOut) {
    output = `healthcheck command exceeded timeout of ${
      goDurationString(timeout)
    }`;
  }
  const passed = code === 0 && !timedOut;
  return {
    passed,
    log: {
      Start,
      End: eventTime(),
      ExitCode: timedOut ? -1 : passed ? 0 : 1,
      Output: output.slice(0, MAX_OUTPUT),
    },
  };
}

/**
 * The results after `run`: a pass is healthy; a failure outside the start
 * period adds to the streak, and `retries` in a row make it unhealthy.
 */
function nextHealth(
  old: HealthState | undefined,
  run: CheckRun,
  c: ContainerConfig,
  startedAt: string,
): HealthState {
  const h = c.host.healthcheck!;
  const was = old ?? startingHealth();
  const now = { ...was, Log: [...was.Log, run.log].slice(-KEEP_LOGS) };
  if (run.passed) return { ...now, Status: "healthy", FailingStreak: 0 };
  const inStart = Date.now() - Date.parse(startedAt) <
    (h.StartPeriod ?? 0) / 1e6;
  if (inStart) return now;
  const streak = now.FailingStreak + 1;
  return {
    ...now,
    FailingStreak: streak,
    Status: streak >= (h.Retries ?? 0) ? "unhealthy" : now.Status,
  };
}

/**
 * Sends the container's stop signal, then SIGKILL if it still runs after
 * its stop timeout; `mark` is written to its state first.
 */
async function stopFor(
  store: ContainerStore,
  c: ContainerConfig,
  mark: { stoppedByUser?: boolean; healthRestart?: boolean },
  signal = parseSignal(c.host.stopSignal),
) {
  const s = await store.updateState(c.id, (s) => ({ ...s, ...mark }));
  if (s.status !== "running" || !s.pid) return;
  const start = processStart(s.pid);
  signalProcess(s.pid, signal);
  const end = Date.now() + (signal === SIGKILL ? 0 : c.host.stopTimeout * 1000);
  while (Date.now() < end && processStart(s.pid) === start) await sleep(50);
  if (start && processStart(s.pid) === start) signalProcess(s.pid, SIGKILL);
}

/** --health-on-failure, for a container that just turned unhealthy. */
async function onFailure(store: ContainerStore, c: ContainerConfig) {
  switch (c.host.healthOnFailure) {
    case "kill":
      await emitContainerEvent(c, "kill");
      return stopFor(store, c, { stoppedByUser: true }, SIGKILL);
    case "stop":
      await emitContainerEvent(c, "stop");
      return stopFor(store, c, { stoppedByUser: true });
    case "restart":
      // The supervision loop sees the mark when the container ends.
      await emitContainerEvent(c, "restart");
      return stopFor(store, c, { healthRestart: true });
  }
}

/**
 * Runs the check once, records the result and tells of it (exec_died and
 * health_status events), then applies --health-on-failure if the container
 * is unhealthy; returns whether this check passed. A check cut short by
 * the container's end is not recorded.
 */
export async function checkHealth(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<boolean> {
  const pid = store.state(c.id).pid;
  const run = await runCheck(store, c);
  if (store.state(c.id).pid !== pid) return run.passed;
  let health: HealthState | undefined;
  await store.updateState(c.id, (s) => {
    health = nextHealth(s.health, run, c, s.startedAt);
    return { ...s, health };
  });
  await emitContainerEvent(c, "exec_died", { exitCode: run.log.ExitCode });
  await emitContainerEvent(c, "health_status", { health: health!.Status });
  if (!run.passed && health!.Status === "unhealthy") {
    await onFailure(store, c);
  }
  return run.passed;
}

/** Entry of `ptd health-check ID`: one check, recorded; always exits 0. */
export async function healthMain(args: string[]): Promise<number> {
  const store = new ContainerStore(storePaths());
  try {
    await checkHealth(store, store.find(args[0]));
  } catch { /* removed meanwhile: nothing to record */ }
  return 0;
}
