/**
 * Container lifecycle operations behind start, stop, kill, rm, wait: the
 * library calls, usable without the CLI. A running container belongs to its
 * parent (its monitor, or a foreground `ptd run`: supervisor.ts); these
 * functions talk to it through signals and state.json.
 */
import { ipcTarget } from "./namespaces.ts";
import { readText, spawn } from "../../ffi/spawn.ts";
import { waitStatus } from "../../ffi/clone.ts";
import { signalProcess } from "../runtime/create.ts";
import { selfCommand } from "../runtime/self.ts";
import { conflict, PtdError } from "../runtime/errors.ts";
import { lazy } from "../runtime/lazy.ts";
import { emitContainerEvent } from "../events/emit.ts";
import type { ContainerConfig, ContainerState } from "./config.ts";
import {
  isActive,
  monitorAlive,
  reconcile,
  reconcileKept,
} from "./liveness.ts";
import { type Handshake, MONITOR_COMMAND } from "./handshake.ts";
import { openAttach, relayAttach } from "./attach.ts";
import { parseSignal } from "./signals.ts";
import type { ContainerStore } from "./store.ts";

const SIGKILL = 9;
const POLL_MS = 50;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * Sleeps between polls: 1 ms, then doubling up to `cap`. A killed monitor
 * is usually gone within a few ms; a flat 50 ms poll made every rm -f wait
 * for it.
 */
function backoff(cap = POLL_MS): () => Promise<unknown> {
  let ms = 1;
  return async () => {
    await sleep(ms);
    ms = Math.min(ms * 2, cap);
  };
}

/**
 * Starts a created or exited container: spawns its monitor (detached, in
 * its own session) and returns once the command runs; `attach`, if given,
 * connects a client first. A command that cannot start throws the monitor's
 * PtdError (Docker's codes: 125, 126, 127).
 */
export async function startContainer(
  store: ContainerStore,
  c: ContainerConfig,
  attach?: () => Promise<void>,
  opts: { reap?: boolean; preserveFds?: number } = {},
): Promise<void> {
  let s = await reconcile(store, c.id);
  // A monitor that recorded the exit is still winding down (a restart's
  // start right after its stop): it is not a running container; wait for
  // it to go rather than take the start for a no-op.
  const pause = backoff();
  for (const end = Date.now() + 10_000; Date.now() < end;) {
    if (s.status !== "exited" || !monitorAlive(s)) break;
    await pause();
    s = await reconcile(store, c.id);
  }
  // Already running: Docker's start is a no-op. We ourselves are recorded as
  // the parent of a container this `run` created, until its monitor claims it.
  if (monitorAlive(s) && s.monitorPid !== Deno.pid) return;
  await startRequired(store, c);
  await spawnMonitor(store, c, { attach, ...opts });
}

/**
 * --requires, and the containers whose PID or UTS namespace `c` joins: they
 * are started first, those they require before them, as Podman does;
 * running ones are left alone.
 */
export async function startRequired(store: ContainerStore, c: ContainerConfig) {
  const joined = [c.host.pid, c.host.uts].map(ipcTarget)
    .filter((t): t is string => t !== undefined);
  for (const ref of [...c.host.requires ?? [], ...joined]) {
    await startContainer(store, store.find(ref));
  }
}

/**
 * Spawns the container's monitor and reads its handshake. `restarts`: the
 * monitor takes over a container whose foreground run just ended, for
 * that restart; it answers once it has claimed the container.
 * `preserveFds`: descriptors 3..3+N-1 of this process, which the monitor
 * inherits (posix_spawn keeps what is not close-on-exec), go on to the
 * command (`run -d --preserve-fds N`).
 */
export async function spawnMonitor(
  store: ContainerStore,
  c: ContainerConfig,
  opts: {
    attach?: () => Promise<void>;
    restarts?: number;
    reap?: boolean;
    preserveFds?: number;
  },
): Promise<void> {
  const { attach, restarts, preserveFds } = opts;
  const self = selfCommand();
  // posix_spawn, not Deno.Command: a fork of this process costs ~10 ms.
  const child = spawn([
    self.path,
    ...self.args,
    MONITOR_COMMAND,
    c.id,
    // --attached: the monitor starts the command once `attach` connected,
    // so a client sees all of its output.
    ...(attach ? ["--attached"] : []),
    ...(restarts ? [`--restarts=${restarts}`] : []),
    ...(preserveFds ? [`--preserve-fds=${preserveFds}`] : []),
    ...terminalSize(c),
  ], 1);
  // A long-lived spawner reaps its monitors (a CLI exits before them), and
  // its polls wake when one ends.
  if (opts.reap) waitStatus(child.pid).catch(() => {}).finally(nudge);
  const [line] = await Promise.all([readText(child.output!, true), attach?.()]);
  if (opts.reap) nudge();
  let h: Handshake;
  try {
    h = JSON.parse(line);
  } catch {
    throw new PtdError(
      "internal",
      `monitor for ${c.name} failed${monitorError(store, c)}`,
    );
  }
  if (!h.ok) throw PtdError.fromData(h.error);
}

/**
 * A foreground run through the monitor (`run -t`): attached before the
 * command starts, so nothing it prints is missed. Returns its exit code,
 * or 0 when the detach keys were typed.
 */
export async function runAttached(
  store: ContainerStore,
  c: ContainerConfig,
  stdin: boolean,
  detachKeys?: string,
): Promise<number> {
  let conn: Deno.UnixConn | undefined;
  try {
    await startContainer(store, c, async () => {
      conn = await openAttach(store, c, 10_000);
    });
  } catch (e) {
    conn?.close();
    throw e;
  }
  await emitContainerEvent(c, "attach");
  return await exitOfAttach(
    store,
    c,
    await relayAttach(conn!, c, stdin, detachKeys),
  );
}

/** `ptd attach`: the container's exit code, or 0 when detached. */
export async function attachContainer(
  store: ContainerStore,
  c: ContainerConfig,
  stdin: boolean,
  detachKeys?: string,
): Promise<number> {
  const conn = await openAttach(store, c);
  await emitContainerEvent(c, "attach");
  return await exitOfAttach(
    store,
    c,
    await relayAttach(conn, c, stdin, detachKeys),
  );
}

async function exitOfAttach(
  store: ContainerStore,
  c: ContainerConfig,
  r: { detached: boolean; code?: number },
): Promise<number> {
  if (r.detached) return 0;
  return r.code ?? await waitContainer(store, c);
}

/**
 * --size=ROWSxCOLS for a -t container started from a terminal (stdout's,
 * else stderr's or stdin's: `run -it ... > file` still has a window).
 */
function terminalSize(c: ContainerConfig): string[] {
  if (!c.host.tty) return [];
  try {
    const { rows, columns } = Deno.consoleSize();
    return [`--size=${rows}x${columns}`];
  } catch {
    return [];
  }
}

/** ": REASON" from the monitor's error file, or "" without one. */
function monitorError(store: ContainerStore, c: ContainerConfig): string {
  try {
    const text = Deno.readTextFileSync(`${store.dir(c.id)}/monitor.err`);
    // Stack lines are indented; the message line above them is not.
    const last = text.split("\n").filter((l) => l && !l.startsWith(" "));
    return last.length > 0 ? `: ${last.at(-1)}` : "";
  } catch {
    return "";
  }
}

/** Waits until the monitor is gone or `ms` passed; true when it is gone. */
async function monitorGone(
  store: ContainerStore,
  id: string,
  ms: number,
): Promise<boolean> {
  const end = Date.now() + ms;
  const pause = backoff();
  for (;;) {
    const s = await reconcileKept(store, id);
    if (!s || !monitorAlive(s) || (!isActive(s) && s.status !== "created")) {
      return true;
    }
    if (Date.now() >= end) return false;
    await pause();
  }
}

/**
 * Waits until a foreground run no longer holds the container (it released
 * or removed it, or died), so that removing its files races none of its
 * last writes; one that takes more than 10 s is killed.
 */
async function hostLetGo(store: ContainerStore, id: string, host: number) {
  const end = Date.now() + 10_000;
  const pause = backoff();
  for (;;) {
    // A removed container reads as a fresh state, naming no parent.
    const s = store.state(id);
    if (s.monitorPid !== host || !monitorAlive(s)) return;
    if (Date.now() >= end) {
      signalProcess(host, SIGKILL);
      return;
    }
    await pause();
  }
}

/** Marks the container stopped by the user: its restart policy stands down. */
async function markStopped(store: ContainerStore, id: string) {
  return await store.updateState(id, (s) => ({ ...s, stoppedByUser: true }));
}

/** Sends `signal` to the container's first process; waits out a SIGKILL. */
export async function killContainer(
  store: ContainerStore,
  c: ContainerConfig,
  signal: string | number = SIGKILL,
): Promise<void> {
  const sig = typeof signal === "number" ? signal : parseSignal(signal);
  const s = await reconcile(store, c.id);
  if (s.status !== "running" || !monitorAlive(s)) {
    throw conflict(
      `can only kill running containers. ${c.id} is in state ${s.status}: container state improper`,
    );
  }
  if (sig === SIGKILL) await markStopped(store, c.id);
  // Told before the signal, so before the end it may cause (died).
  await emitContainerEvent(c, "kill");
  signalProcess(s.pid, sig);
  // Podman waits for a SIGKILLed container's end: `kill` then `ps` (or
  // `kill -a` again) sees it exited.
  if (sig === SIGKILL) await monitorGone(store, c.id, 10_000);
}

/**
 * Stops the container: its stop signal, then SIGKILL after `timeout`
 * seconds. Waits until the monitor recorded the exit.
 */
export async function stopContainer(
  store: ContainerStore,
  c: ContainerConfig,
  timeout = c.host.stopTimeout,
): Promise<void> {
  const s = await markStopped(store, c.id);
  if (!monitorAlive(s)) return;
  // A frozen process takes no signal but SIGKILL: Podman thaws it first, so
  // the stop signal reaches it and its handler runs.
  if (s.paused) await setPaused(store, c, false, "stop");
  await emitContainerEvent(c, "stop");
  if (s.pid) signalProcess(s.pid, parseSignal(c.host.stopSignal));
  if (await monitorGone(store, c.id, timeout * 1000)) return;
  const now = store.state(c.id);
  if (now.pid) signalProcess(now.pid, SIGKILL);
  if (!(await monitorGone(store, c.id, 10_000))) {
    throw new Error(`container ${c.id} did not stop`);
  }
}

/**
 * Removes a container. A running one needs `force`: then its monitor is
 * killed outright (the container dies with it) and the files go. One that
 * others depend on stays, whatever `force` says (Podman: rm --depend).
 */
export async function removeContainer(
  store: ContainerStore,
  c: ContainerConfig,
  force: boolean,
): Promise<void> {
  const s = await reconcile(store, c.id);
  if (monitorAlive(s) && !force) {
    throw conflict(
      `cannot remove container ${c.id} as it is ${s.status} - running or paused containers cannot be removed without force: container state improper`,
    );
  }
  // Loaded by removal, not by every command that loads this module (run).
  const { refuseIfDepended } = await lazy<typeof import("./dependencies.ts")>(
    "src/container/dependencies.ts",
  );
  refuseIfDepended(store, c);
  if (monitorAlive(s)) {
    await markStopped(store, c.id);
    // A monitor goes with its container; a foreground `ptd run` records the
    // container's end and returns its code.
    if (!s.foreground) signalProcess(s.monitorPid!, SIGKILL);
    if (s.pid) signalProcess(s.pid, SIGKILL);
    if (s.foreground) await hostLetGo(store, c.id, s.monitorPid!);
    else if (!(await monitorGone(store, c.id, 10_000))) {
      throw new Error(`container ${c.id} did not stop`);
    } else if (s.pid) {
      // Its monitor, killed with it, cannot tell of its end.
      await emitContainerEvent(c, "died", { exitCode: 137 });
    }
    await waitProcessGone(s.pid);
  }
  await store.remove(c.id);
  await emitContainerEvent(c, "remove");
}

async function waitProcessGone(pid: number) {
  const pause = backoff();
  for (let i = 0; pid > 0 && i < 200; i++) {
    if (!signalProcess(pid, 0)) return;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      if (/\) [ZX] /.test(stat)) return;
    } catch {
      return;
    }
    await pause();
  }
}

/** The exit code a --rm container's monitor left, read once. */
function takeExitFile(store: ContainerStore, id: string): number | undefined {
  try {
    const code = Number(Deno.readTextFileSync(store.exitFile(id)).trim());
    Deno.removeSync(store.exitFile(id));
    return code;
  } catch {
    return undefined;
  }
}

/**
 * Settled when a monitor this process spawned (and reaps) started or
 * ended its container: a poll waiting on a container wakes then, not at
 * its next tick. Undefined in a process that reaps none (a CLI).
 */
let changed: PromiseWithResolvers<void> | undefined;

function nudge() {
  changed?.resolve();
  changed = Promise.withResolvers();
}

/**
 * Polls the container's state (undefined once it is removed) until `step`
 * returns a value; `signal` gives up (a client that went away).
 */
async function pollState<T>(
  store: ContainerStore,
  c: ContainerConfig,
  step: (s: ContainerState | undefined) => T | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const pause = backoff(POLL_MS * 2);
  for (;;) {
    signal?.throwIfAborted();
    let s;
    try {
      Deno.statSync(`${store.dir(c.id)}/state.json`);
      s = await reconcileKept(store, c.id);
    } catch { /* removed meanwhile */ }
    const done = step(s);
    if (done !== undefined) return done;
    await (changed ? Promise.race([pause(), changed.promise]) : pause());
  }
}

/**
 * Waits until the container has exited for good (no restart pending) and
 * returns its exit code; for a container removed meanwhile (--rm), the code
 * its monitor left in the exit file, else the last code seen.
 */
export async function waitContainer(
  store: ContainerStore,
  c: ContainerConfig,
  signal?: AbortSignal,
): Promise<number> {
  let last = store.state(c.id).exitCode;
  return await pollState(store, c, (s) => {
    if (!s) return takeExitFile(store, c.id) ?? last;
    last = s.exitCode;
    // A container never started has nothing to wait for (Podman: at once).
    const ended = s.status === "exited" || s.status === "created";
    return ended && !monitorAlive(s) ? s.exitCode : undefined;
  }, signal);
}

/**
 * Waits until the container started after `since` (its finishedAt then):
 * it runs, or exited later, or is gone (--rm) with its code in the exit
 * file.
 */
export async function waitStarted(
  store: ContainerStore,
  c: ContainerConfig,
  since: string,
  signal?: AbortSignal,
): Promise<void> {
  await pollState(
    store,
    c,
    (s) =>
      !s || (s.status !== "created" && (isActive(s) || s.finishedAt !== since))
        ? true
        : undefined,
    signal,
  );
}

/** Waits (at most 10 s) until a --rm container's files are gone. */
export async function waitRemoved(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<void> {
  const end = Date.now() + 10_000;
  await pollState(store, c, (s) => !s || Date.now() > end ? true : undefined);
}

/**
 * pause/unpause: the cgroup v2 freezer on the container's own cgroup. A
 * rootless user gets one only from a delegated cgroup v2 subtree; on a v1
 * or hybrid host (a v1 freezer is root's) there is none, and ptd says so
 * rather than pretend.
 */
export async function freezeContainer(
  store: ContainerStore,
  c: ContainerConfig,
  freeze: boolean,
): Promise<void> {
  const s = await reconcile(store, c.id);
  const verb = freeze ? "pause" : "unpause";
  if (s.status !== "running" || !monitorAlive(s) || !!s.paused !== !freeze) {
    // Podman's words: pause names the state, unpause the container.
    throw conflict(
      `${
        JSON.stringify(freeze ? s.paused ? "paused" : s.status : c.id)
      } is not ${
        freeze ? "running" : "paused"
      }, can't ${verb}: container state improper`,
    );
  }
  await setPaused(store, c, freeze, verb);
}

/** Freezes or thaws the container's cgroup and records it. */
async function setPaused(
  store: ContainerStore,
  c: ContainerConfig,
  freeze: boolean,
  verb: string,
): Promise<void> {
  // The cgroup code, loaded by pause and unpause alone.
  const { cgroupPlan, hostDelegation, setFrozen } = await lazy<
    typeof import("../cgroup/policy.ts")
  >("src/cgroup/policy.ts");
  const plan = cgroupPlan(c.id, c.host);
  if (!plan) {
    const why = hostDelegation();
    throw new Error(
      `${verb} requires the cgroup freezer, and this container has no cgroup of its own: ${
        "reason" in why ? why.reason : "it runs with --cgroups disabled"
      }`,
    );
  }
  await setFrozen(plan.dir, freeze);
  await store.updateState(c.id, (s) => ({ ...s, paused: freeze }));
}
