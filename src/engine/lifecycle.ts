/**
 * The engine's container lifecycle: start, stop, kill, restart, rm, wait,
 * rename, pause, logs, exec, attach, cp, top, port and prune, each on one
 * container named by `ref` (a front end loops over several and reports
 * each failure its way). The work is src/container's; here a reference
 * becomes a container of the engine's store.
 */
import { openAttach } from "../container/attach.ts";
import type { ExecOptions, ExecStreams } from "../container/exec.ts";
import { refuseIfDepended } from "../container/dependencies.ts";
import * as life from "../container/lifecycle.ts";
import { monitorAlive, reconcile } from "../container/liveness.ts";
import type { LogRecord } from "../container/log.ts";
import { followLog, type LogFilter } from "../container/log_reader.ts";
import { checkKeepsLog, logSource } from "../container/log_driver.ts";
import { parseDetachKeys } from "../container/detach_keys.ts";
import { type ContainerConfig, portsOf } from "../container/config.ts";
import { parseSignal } from "../container/signals.ts";
import type { ContainerStore } from "../container/store.ts";
import { portLines, portsFor } from "../network/ports.ts";
import { notFound, PtdError } from "../runtime/errors.ts";
import { removeAnonymousVolumes } from "../volume/ops.ts";
import { VolumeStore } from "../volume/store.ts";
import { lazy } from "../runtime/lazy.ts";
import { emitContainerEvent } from "../events/emit.ts";
import type { Engine, PruneReport } from "./engine.ts";
import {
  containerStore,
  filterContainers,
  type Listed,
  parsePruneFilters,
} from "./listing.ts";
import {
  selectContainers,
  type Selection,
  withDependents,
} from "./selection.ts";

/** The store and the container `ref` names in it. */
function target(e: Engine, ref: string): [ContainerStore, ContainerConfig] {
  const s = containerStore(e);
  return [s, s.find(ref)];
}

/** How `startContainer` starts a container. */
export interface StartOptions {
  /**
   * Connects clients to the container's output before its command runs
   * (`attachSocket` with a wait): they see all of it.
   */
  attach?: () => Promise<void>;
  /**
   * Waits for the monitor's exit, so that a long-lived front end (the
   * REST API) that spawned it leaves no zombie behind.
   */
  reap?: boolean;
}

/** Starts a created or exited container; a running one is left as it is. */
export async function startContainer(
  e: Engine,
  ref: string,
  opts: StartOptions = {},
): Promise<void> {
  await life.startContainer(...target(e, ref), opts.attach, {
    reap: opts.reap,
  });
}

/**
 * A connection to the container's monitor (the frames of
 * src/container/attach.ts); `waitMs` allows for one still starting.
 */
export async function attachSocket(
  e: Engine,
  ref: string,
  waitMs = 0,
): Promise<Deno.UnixConn> {
  return await openAttach(...target(e, ref), waitMs);
}

/**
 * Starts the container with this process attached to its output (and its
 * input with `stdin`, if it was created with -i); returns its exit code,
 * or 0 when the user detached (with `detachKeys`, else the container's).
 */
export async function startAttached(
  e: Engine,
  ref: string,
  stdin: boolean,
  detachKeys?: string,
): Promise<number> {
  const [s, c] = target(e, ref);
  if (detachKeys !== undefined) parseDetachKeys(detachKeys);
  return await life.runAttached(s, c, stdin && c.host.interactive, detachKeys);
}

/** Stop signal, then SIGKILL after `timeout` seconds (its own by default). */
export async function stopContainer(
  e: Engine,
  ref: string,
  timeout?: number,
): Promise<void> {
  await life.stopContainer(...target(e, ref), timeout);
}

/** Sends `signal` (a name or number) to a running container. */
export async function killContainer(
  e: Engine,
  ref: string,
  signal: string | number,
): Promise<void> {
  await life.killContainer(...target(e, ref), signal);
}

/** Fails (invalid) unless `signal` names a signal: `kill` checks first. */
export function checkSignal(signal: string): void {
  parseSignal(signal);
}

/** Stops the container if it runs, then starts it (`reap`: as `startContainer`). */
export async function restartContainer(
  e: Engine,
  ref: string,
  timeout?: number,
  reap = false,
): Promise<void> {
  const [s, c] = target(e, ref);
  await emitContainerEvent(c, "restart");
  await life.stopContainer(s, c, timeout);
  await life.startContainer(s, c, undefined, { reap });
}

/** How `removeContainer` goes about it. */
export interface RemoveOptions {
  /** Kill a running container first. */
  force?: boolean;
  /** Remove its anonymous volumes too. */
  volumes?: boolean;
  /** With `force`: stop it first, killing it after this many seconds. */
  time?: number;
  /**
   * A pod's infra container: `pod` removes its pod with it (rm --all,
   * once the pod's other containers went), `infra` is the pod's own
   * removal; neither: refused, as Podman does.
   */
  infra?: "pod" | "infra";
}

/**
 * Removes a container: a running one is a conflict without `force`, and
 * one that others depend on is refused (dependencies.ts).
 */
export async function removeContainer(
  e: Engine,
  ref: string,
  opts: RemoveOptions = {},
): Promise<void> {
  const [s, c] = target(e, ref);
  if (c.host.pod !== undefined && opts.infra !== "infra") {
    const { removeWithPod } = await lazy<typeof import("./pods.ts")>(
      "src/engine/pods.ts",
    );
    if (await removeWithPod(e, c, opts)) return;
  }
  if (opts.force && opts.time !== undefined) {
    // Refused before it is stopped, as Podman does.
    refuseIfDepended(s, c);
    await life.stopContainer(s, c, opts.time);
  }
  await life.removeContainer(s, c, !!opts.force);
  if (opts.volumes) await removeAnonymousVolumes(e.store(VolumeStore), c);
}

/**
 * Waits until the container exited for good and returns its exit code; one
 * that was never started has nothing to wait for (Podman: its code, 0).
 */
export async function waitContainer(e: Engine, ref: string): Promise<number> {
  const [s, c] = target(e, ref);
  return await life.waitContainer(s, c);
}

/**
 * Docker's wait conditions: "not-running" returns at once for a container
 * that does not run; "next-exit" waits for a created one to start and
 * end; "removed" also for its removal (--rm), with its exit code.
 */
export type WaitCondition = "not-running" | "next-exit" | "removed";

/**
 * `waitContainer` with a condition (the REST API's wait); `signal` gives
 * up (its client went away).
 */
export async function waitForCondition(
  e: Engine,
  ref: string,
  condition: WaitCondition,
  signal?: AbortSignal,
): Promise<number> {
  const [s, c] = target(e, ref);
  if (condition !== "not-running") {
    await life.waitStarted(s, c, s.state(c.id).finishedAt, signal);
  }
  const code = await life.waitContainer(s, c, signal);
  if (condition === "removed" && c.host.autoRemove) {
    await life.waitRemoved(s, c);
  }
  return code;
}

/** Gives the container a new name. */
export async function renameContainer(
  e: Engine,
  ref: string,
  name: string,
): Promise<void> {
  const [s, c] = target(e, ref);
  await s.rename(c.id, name);
  await emitContainerEvent({ ...c, name }, "rename");
}

/** pause (`freeze`) or unpause: needs a cgroup of the container's own. */
export async function pauseContainer(
  e: Engine,
  ref: string,
  freeze: boolean,
): Promise<void> {
  const [s, c] = target(e, ref);
  await life.freezeContainer(s, c, freeze);
  await emitContainerEvent(c, freeze ? "pause" : "unpause");
}

/** One container's log, as `containerLogs` gives it. */
export interface ContainerLog {
  id: string;
  name: string;
  /** Its records; with follow, until it stops running. */
  records: AsyncIterable<LogRecord>;
}

/**
 * The logs of the containers `sel` names (or the latest), each looked up
 * (and checked to keep a log) before any is read.
 */
export async function containerLogs(
  e: Engine,
  sel: Pick<Selection, "refs" | "latest">,
  filter: LogFilter,
  follow = false,
  signal?: AbortSignal,
): Promise<ContainerLog[]> {
  const s = containerStore(e);
  const found = (await selectContainers(e, sel)).map((t) => t.c);
  for (const c of found) checkKeepsLog(c);
  return found.map((c) => {
    const running = stillRunning(s, c.id);
    // A client gone (`signal`) ends a follow too.
    const more = follow
      ? async () => !signal?.aborted && await running()
      : () => Promise.resolve(false);
    return {
      id: c.id,
      name: c.name,
      records: followLog(logSource(s, c), filter, more),
    };
  });
}

/** True while the container may still write to its log. */
const stillRunning = (s: ContainerStore, id: string) => async () => {
  try {
    return monitorAlive(await reconcile(s, id));
  } catch {
    return false;
  }
};

/** Runs a command in the running container; returns its exit code. */
export async function execContainer(
  e: Engine,
  ref: string,
  opts: ExecOptions,
): Promise<number> {
  const [s, c] = target(e, ref);
  if (opts.command.length === 0) {
    throw new PtdError(
      "invalid",
      "must provide a non-empty command to start an exec session: invalid argument",
      255,
    );
  }
  const { execInContainer } = await execCode();
  const code = await execInContainer(s, c, {
    ...opts,
    started: async (pid) => {
      opts.started?.(pid);
      await emitContainerEvent(c, "exec");
    },
  });
  if (opts.detach) await emitContainerEvent(c, "exec");
  else await emitContainerEvent(c, "exec_died", { exitCode: code });
  return code;
}

/**
 * Runs a command in the running container with its stdio relayed by the
 * caller (the REST API's exec start), not by this process's own stdio.
 */
export async function execSession(
  e: Engine,
  ref: string,
  opts: ExecOptions,
): Promise<ExecStreams> {
  const [s, c] = target(e, ref);
  return (await execCode()).execStreams(s, c, opts);
}

/**
 * The exec code (the routine that enters a container, credentials,
 * seccomp), loaded by exec and top only: rm, stop, kill and start share
 * this module and need none of it.
 */
function execCode() {
  return lazy<typeof import("../container/exec.ts")>(
    "src/container/exec.ts",
  );
}

/**
 * Attaches to a running container; its exit code, or 0 when detached
 * (with `detachKeys`, else the container's).
 */
export async function attachContainer(
  e: Engine,
  ref: string,
  stdin: boolean,
  detachKeys?: string,
): Promise<number> {
  const [s, c] = target(e, ref);
  return await life.attachContainer(
    s,
    c,
    stdin && c.host.interactive,
    detachKeys,
  );
}

/**
 * The copy code, loaded only by cp: it brings tar-stream and Deno's Node
 * layer (~40 ms), which every other lifecycle command would pay for.
 */
const cpModule = () =>
  lazy<typeof import("../container/cp.ts")>(
    "src/container/cp.ts",
  );

/** Copies `path` out of the container to `hostDest`. */
export async function copyFrom(
  e: Engine,
  ref: string,
  path: string,
  hostDest: string,
): Promise<void> {
  const { copyFromContainer } = await cpModule();
  await copyFromContainer(...target(e, ref), path, hostDest);
}

/** Copies `hostSrc` into the container at `path`. */
export async function copyTo(
  e: Engine,
  ref: string,
  hostSrc: string,
  path: string,
  archive = true,
): Promise<void> {
  const { copyToContainer } = await cpModule();
  await copyToContainer(...target(e, ref), hostSrc, path, archive);
}

/** The tar of `path` in the container, to `out` (archive GET). */
export async function tarOut(
  e: Engine,
  ref: string,
  path: string,
  out: { write(p: Uint8Array): Promise<number> },
): Promise<void> {
  const { tarFrom } = await cpModule();
  await tarFrom(...target(e, ref), "out", path, out);
}

/** Lands a tar in the container's directory `dest` (archive PUT). */
export async function tarIn(
  e: Engine,
  ref: string,
  dest: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<void> {
  const { tarInto } = await cpModule();
  await tarInto(...target(e, ref), dest, chunks);
}

/** Copies `src` of container `from` to `dest` in container `to`. */
export async function copyBetween(
  e: Engine,
  from: string,
  src: string,
  to: string,
  dest: string,
  archive = true,
): Promise<void> {
  const s = containerStore(e);
  const { copyBetweenContainers } = await cpModule();
  await copyBetweenContainers(s, s.find(from), src, s.find(to), dest, archive);
}

/**
 * `top`: the container's processes as table lines, with Podman's
 * descriptors or, for anything else, ps(1) run inside the container.
 */
export async function topContainer(
  e: Engine,
  ref: string,
  args: string[],
): Promise<string[]> {
  const [s, c] = target(e, ref);
  const { containerTop } = await lazy<typeof import("../container/top.ts")>(
    "src/container/top.ts",
  );
  return await containerTop(s, c, args);
}

/**
 * The container's published ports as `port` prints them ("80/tcp ->
 * 0.0.0.0:8080"); with `port` (e.g. "80/tcp"), only the host side of it.
 */
export function containerPorts(
  e: Engine,
  ref: string,
  port?: string,
): string[] {
  const c = containerStore(e).find(ref);
  const ports = portsOf(c);
  if (port === undefined) return portLines(ports);
  const lines = portsFor(ports, port).map((l) => l.split(" -> ")[1]);
  if (lines.length === 0) {
    throw notFound(`no public port '${port}' published for ${c.name}`);
  }
  return lines;
}

/**
 * `container prune`: removes every container that is not running (of
 * those `filters`, label= and until=, select). One that a running
 * container's network depends on is reported, the others go.
 */
export async function pruneContainers(
  e: Engine,
  filters: string[] = [],
): Promise<PruneReport<string>> {
  const s = containerStore(e);
  const report: PruneReport<string> = { removed: [], errors: [] };
  const chosen = await filterContainers(e, parsePruneFilters(filters));
  for (const { c, state } of chosen) {
    // A pod's containers go with their pod (pod prune), as in Podman.
    if (monitorAlive(state) || c.host.pod !== undefined) continue;
    try {
      await life.removeContainer(s, c, false);
      report.removed.push(c.id);
    } catch (error) {
      report.errors.push({ id: c.id, error });
    }
  }
  return report;
}

/** How one container of a bulk verb fared. */
export interface Outcome {
  /** The container as the user named it (its id for --all and the like). */
  input: string;
  /** Why it failed; undefined when it went. */
  error?: unknown;
}

/** Containers --all of kill and pause reach: the running ones. */
export const running = (x: Listed) => x.state.status === "running";

/**
 * A bulk verb: selects the containers (every name looked up first, as
 * Podman; a missing one fails the whole command unless `ignore`), then
 * acts on each in turn, telling `report` how each fared; the others still
 * go when one fails. `scope` narrows --all.
 */
export async function eachSelected(
  e: Engine,
  sel: Selection,
  act: (e: Engine, id: string) => Promise<void>,
  report: (o: Outcome) => void,
  opts: { scope?: (x: Listed) => boolean; depend?: boolean } = {},
): Promise<Outcome[]> {
  let targets = await selectContainers(e, sel, opts.scope);
  if (opts.depend) targets = withDependents(e, targets);
  const out: Outcome[] = [];
  for (const t of targets) {
    let o: Outcome;
    try {
      await act(e, t.c.id);
      o = { input: t.input };
    } catch (error) {
      o = { input: t.input, error };
    }
    report(o);
    out.push(o);
  }
  return out;
}
