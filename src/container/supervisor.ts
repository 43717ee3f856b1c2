/**
 * The supervision loop of one container, the same whichever process hosts
 * it: the detached monitor (`run -d`, `start`) or a foreground `ptd run`.
 * The host first claims the container (its pid and start time in
 * state.json: that is how stop, kill, exec, rm and ps find the parent and
 * tell whether it lives). The loop starts the container, pumps its output
 * into the log and to attached clients, records every start and exit under
 * the container's lock, applies the restart policy and --rm.
 */
import {
  closeFd,
  inheritablePipe,
  pipeFromChild,
  setCloexec,
} from "../../ffi/fd.ts";
import { SIGKILL } from "../../ffi/constants.ts";
import { readFd, setWindowSize, writeFd } from "../../ffi/pty.ts";
import { receiveFd, socketPair } from "../../ffi/fd_passing.ts";
import { signalProcess, startInit, waitExit } from "../runtime/create.ts";
import type { OverlayRootfs } from "../runtime/spec.ts";
import {
  asPtdError,
  type ErrorData,
  errorFromJson,
  EXIT_ENGINE,
} from "../runtime/errors.ts";
import {
  AttachServer,
  RESIZE,
  STDERR,
  STDIN,
  STDIN_CLOSED,
  STDOUT,
} from "./attach.ts";
import type { ContainerConfig, ContainerState } from "./config.ts";
import type { Handshake } from "./handshake.ts";
import { ownClaim } from "./liveness.ts";
import type { Stream } from "./log.ts";
import { LogWriter } from "./log_writer.ts";
import { ContainerNetwork } from "./network.ts";
import { shouldRestart } from "./restart.ts";
import { runtimeSpec } from "./spec.ts";
import type { ContainerStore } from "./store.ts";
import { removeStored } from "./volumes.ts";
import { keepsLog, logSource } from "./log_driver.ts";
import { emitContainerEvent } from "../events/emit.ts";
import { lazy } from "../runtime/lazy.ts";
import { trace } from "../runtime/trace.ts";
import type { CgroupPlan } from "../cgroup/policy.ts";
import { startNeedsCgroups } from "../cgroup/needed.ts";
import type { SdNotify, SdNotifyMode } from "./sdnotify.ts";

/** How the hosting process takes part in the loop. */
export interface Supervision {
  /**
   * A foreground `ptd run` hosts it: the container's stdin is the host's
   * own, its output is relayed to the host's too, and `rm -f` kills the
   * container rather than the host.
   */
  foreground?: boolean;
  /** Wait (up to 10 s) for an attach client before the first start. */
  waitForClient?: boolean;
  /** The terminal size of a -t container until a client sets one. */
  size?: [number, number];
  /** Where output goes besides the log and attach clients. */
  relay?: (stream: Stream, chunk: Uint8Array) => Promise<void>;
  /** Told once whether the first start worked. */
  answer: (h: Handshake) => void;
  /**
   * Set, the loop does not restart the container itself: it passes the
   * restart (1 for the first) to this and ends, as a foreground run hands
   * its container to a detached monitor.
   */
  handOff?: (restarts: number) => Promise<void>;
  /** Restarts done before this host took over: it begins with the next. */
  restarts?: number;
  /** --preserve-fds: this host's descriptors 3..3+N-1 go to the command. */
  preserveFds?: number;
}

/** How one run of the container ended. */
interface RunResult {
  started: boolean;
  code: number;
  error?: ErrorData;
  /** The OOM killer killed a process of the container's cgroup. */
  oomKilled?: boolean;
}

/**
 * Records this process as the container's parent, before anything is
 * cloned: from here on its death means the container's (see reconcile).
 */
export async function claim(
  store: ContainerStore,
  id: string,
  foreground: boolean,
  resumed = false,
): Promise<void> {
  // A `run` that created the container is recorded as its parent already:
  // one locked write less on the hot path.
  const now = store.state(id);
  const fresh = !now.stoppedByUser && !now.error && !now.restartCount;
  if (now.monitorPid === Deno.pid && now.foreground === foreground && fresh) {
    return;
  }
  await store.updateState(id, (s) => ({
    ...s,
    ...ownClaim(foreground),
    stoppedByUser: false,
    restartCount: resumed ? s.restartCount : 0,
    error: "",
  }));
}

/**
 * A state update that tolerates the container's removal meanwhile (`rm -f`
 * of a foreground run): undefined when it is gone.
 */
async function record(
  store: ContainerStore,
  id: string,
  fn: (s: ContainerState) => ContainerState,
): Promise<ContainerState | undefined> {
  try {
    return await store.updateState(id, fn);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

async function pump(
  f: AsyncIterable<Uint8Array>,
  stream: Stream,
  log: LogWriter | undefined,
  attach: AttachServer,
  relay?: Supervision["relay"],
) {
  const kind = stream === "stdout" ? STDOUT : STDERR;
  for await (const chunk of f) {
    attach.broadcast(kind, chunk);
    log?.write(stream, chunk);
    await relay?.(stream, chunk);
  }
  log?.write(stream, null);
}

/**
 * A pipe's chunks until EOF, then the pipe closed. Read with read(), not
 * through `readable`: Deno loads its web streams (and Response for text)
 * on first use, ~4 ms of every container's start.
 */
async function* pipeChunks(f: Deno.FsFile) {
  const buf = new Uint8Array(65536);
  try {
    for (let n; (n = await f.read(buf)) !== null;) yield buf.slice(0, n);
  } finally {
    f.close();
  }
}

/** All a pipe says until EOF, as text. */
async function pipeText(f: Deno.FsFile): Promise<string> {
  const dec = new TextDecoder();
  let text = "";
  for await (const chunk of pipeChunks(f)) {
    text += dec.decode(chunk, { stream: true });
  }
  return text + dec.decode();
}

/** A pty master as a stream; it ends (EIO) once no slave is open. */
async function* masterStream(master: number) {
  const buf = new Uint8Array(65536);
  for (let n; (n = await readFd(master, buf)) !== null;) {
    yield buf.slice(0, n);
  }
}

/** With -t, attached clients type into the pty and set its size. */
function terminalInput(master: number, attach: AttachServer) {
  return (kind: number, data: Uint8Array<ArrayBuffer>) => {
    if (kind === STDIN) return writeFd(master, data);
    if (kind === RESIZE && data.length === 4) {
      const v = new DataView(data.buffer);
      attach.size = [v.getUint16(0), v.getUint16(2)];
      setWindowSize(master, ...attach.size);
    }
  };
}

/**
 * With -i, the container's stdin is a pipe fed by attached clients; the
 * read end is the child's, and `close` ends it when a client's input does.
 */
function stdinPipe(c: ContainerConfig, attach: AttachServer) {
  if (!c.host.interactive) return undefined;
  const [read, write] = inheritablePipe();
  setCloexec(write);
  let open = true;
  const close = () => {
    if (open) closeFd(write);
    open = false;
  };
  attach.input = (kind, data) => {
    if (kind === STDIN_CLOSED) close();
    else if (kind === STDIN && open) return writeFd(write, data);
  };
  return { read, close };
}

/** Docker's back-off between restarts: 100 ms, doubling, at most 5 s. */
function backoff(restarts: number): number {
  return Math.min(100 * 2 ** restarts, 5000);
}

/** What a container killed by --timeout exits with, as under Podman's conmon. */
const EXIT_TIMEOUT = 255;

/** --timeout: SIGKILL to `pid` after `seconds`; none for 0 or absent. */
function killAfter(pid: number, seconds = 0) {
  if (!(seconds > 0)) return undefined;
  const timer = {
    fired: false,
    id: setTimeout(() => {
      timer.fired = true;
      signalProcess(pid, SIGKILL);
    }, seconds * 1000),
  };
  return timer;
}

/** Runs the container once: start, log, wait; `started` once it runs. */
async function runOnce(
  store: ContainerStore,
  c: ContainerConfig,
  log: LogWriter | undefined,
  attach: AttachServer,
  sv: Supervision,
  notify?: SdNotify,
): Promise<RunResult> {
  const spec = await runtimeSpec(store, c);
  trace("start-spec");
  notify?.prepare(spec, store.runDir(c.id));
  const out = pipeFromChild(), err = pipeFromChild(), fail = pipeFromChild();
  const net = new ContainerNetwork(store, c);
  // -t: init sends the pty's master over this socket (see setUpConsole).
  const consoleSocket = c.host.tty ? socketPair() : undefined;
  if (consoleSocket) setCloexec(consoleSocket[0]);
  // A foreground run's stdin is its own (fd 0, kept for -i); a monitor's fd
  // 0 is /dev/null, and with -i a pipe from attach clients replaces it.
  const input = consoleSocket || sv.foreground
    ? undefined
    : stdinPipe(c, attach);
  if (consoleSocket) {
    spec.console = { socket: consoleSocket[1], size: attach.size };
    // A terminal is stdin too, even without -i (Docker's -t).
    spec.process.stdin = true;
  }
  if (c.host.logDriver === "passthrough" && sv.foreground) {
    // Straight to the caller's stdio: the pipes stay empty.
    spec.stdio = [0, 1, 2];
  } else {
    spec.stdio = [input?.read ?? 0, out.write, err.write];
  }
  spec.errorFd = fail.write;
  if (sv.preserveFds) spec.process.preserveFds = sv.preserveFds;
  // A rootless overlay may need a fuse-overlayfs daemon: init says so here.
  const fuseSocket = spec.rootless && "lower" in spec.rootfs
    ? socketPair()
    : undefined;
  if (fuseSocket) {
    setCloexec(fuseSocket[0]);
    spec.fuseSocket = fuseSocket[1];
  }
  // Named networks are wired while init sets up: it waits at its exec.
  const gate = c.host.networkMode.networks ? inheritablePipe() : undefined;
  if (gate) {
    setCloexec(gate[1]);
    spec.networkGate = gate[0];
  }
  let networked: Promise<void> | undefined;
  const ours = [
    out.write,
    err.write,
    fail.write,
    ...consoleSocket ?? [],
    ...fuseSocket ?? [],
    ...gate ?? [],
  ];
  const cgroup = await cgroupOf(c);
  let oomSeen: ((code: number) => boolean) | undefined;
  let pid: number;
  try {
    spec.joinUserns = await net.prepare();
    pid = await startInit(
      spec,
      `${store.runDir(c.id)}/spec.json`,
      async (pid) => {
        // The child has its copies; the network helpers must not hold them.
        for (const fd of ours) setCloexec(fd);
        // In its cgroup before it execs: all it starts is counted there, and
        // this parent and the network helpers stay outside its limits.
        if (cgroup) {
          await cgroup.policy.enterPlan(cgroup, pid, c.host.resources ?? {});
          oomSeen = cgroup.policy.oomWitness(cgroup);
        }
        if (c.host.oomScoreAdj !== undefined) {
          Deno.writeTextFileSync(
            `/proc/${pid}/oom_score_adj`,
            String(c.host.oomScoreAdj),
          );
        }
        if (!gate) return await net.attach(pid);
        networked = net.attach(pid).then(() =>
          writeFd(gate[1], new Uint8Array([1]))
        );
        networked.catch(() => {});
      },
    );
    await networked?.catch(async (e) => {
      signalProcess(pid, SIGKILL);
      await waitExit(pid);
      throw e;
    });
  } catch (e) {
    for (const f of [out.file, err.file, fail.file]) f.close();
    if (consoleSocket) closeFd(consoleSocket[0]);
    if (fuseSocket) closeFd(fuseSocket[0]);
    if (cgroup) await cgroup.policy.removeCgroup(cgroup.dir);
    await net.detach();
    throw e;
  } finally {
    for (const fd of [out.write, err.write, fail.write]) closeFd(fd);
    for (const fd of gate ?? []) closeFd(fd);
    if (input) closeFd(input.read);
    if (consoleSocket) closeFd(consoleSocket[1]);
    if (fuseSocket) closeFd(fuseSocket[1]);
  }
  // Before the terminal: init mounts its root first.
  const fuseFd = fuseSocket && await receiveFd(fuseSocket[0]);
  if (fuseSocket) closeFd(fuseSocket[0]);
  const fuse = fuseFd === undefined
    ? undefined
    : await fuseDaemon(fuseFd, pid, spec.rootfs as OverlayRootfs);
  // EOF instead when init failed before it had a terminal.
  const master = consoleSocket && await receiveFd(consoleSocket[0]);
  if (consoleSocket) closeFd(consoleSocket[0]);
  if (master !== undefined) {
    // stdout is the terminal: the pipe init was given is not read.
    out.file.close();
    attach.input = terminalInput(master, attach);
    // A size that came while init was setting up.
    if (attach.size) setWindowSize(master, ...attach.size);
  }
  const pumps = Promise.all([
    pump(
      master !== undefined ? masterStream(master) : pipeChunks(out.file),
      "stdout",
      log,
      attach,
      sv.relay,
    ),
    pump(pipeChunks(err.file), "stderr", log, attach, sv.relay),
  ]);
  const failure = await pipeText(fail.file);
  let endChecks: (() => void) | undefined;
  if (failure === "") {
    // Told before it shows as running, as its end is before it shows exited.
    await emitContainerEvent(c, "init");
    await emitContainerEvent(c, "start");
    await record(store, c.id, (s) => ({
      ...s,
      status: "running",
      pid,
      startedAt: new Date().toISOString(),
      error: "",
      oomKilled: false,
      paused: false,
    }));
    // --pidfile: what a script waits on, written as Podman's conmon does.
    if (c.host.pidFile) Deno.writeTextFileSync(c.host.pidFile, String(pid));
    // --conmon-pidfile: the container's parent here is this process.
    if (c.host.conmonPidFile) {
      Deno.writeTextFileSync(c.host.conmonPidFile, String(Deno.pid));
    }
    if (sv.foreground) await emitContainerEvent(c, "attach");
    endChecks = await healthWatch(store, c);
    // Before the answer: a `run -d` under systemd leaves once it has it.
    notify?.started();
    sv.answer({ ok: true, pid });
    attach.reload = () => net.reload(pid);
  }
  const timer = killAfter(pid, c.host.timeout);
  let code = await waitExit(pid);
  trace("ended");
  await fuse?.stop();
  endChecks?.();
  if (timer) {
    clearTimeout(timer.id);
    if (timer.fired) code = EXIT_TIMEOUT;
  }
  if (failure === "") await emitContainerEvent(c, "died", { exitCode: code });
  // Nothing to wire again once it is gone.
  attach.reload = undefined;
  input?.close();
  const oom = oomSeen?.(code) ?? false;
  if (oom) await emitContainerEvent(c, "oom");
  if (cgroup) await cgroup.policy.removeCgroup(cgroup.dir);
  await net.detach();
  await pumps;
  if (master !== undefined) {
    // Input that comes later has nowhere to go (nor a reused fd number).
    attach.input = () => {};
    closeFd(master);
  }
  if (failure === "") return { started: true, code, oomKilled: oom };
  const error = errorFromJson(failure).toData();
  return { started: false, code: error.exitCode, error };
}

/**
 * Where container `c` runs, with the cgroup code that makes it: none
 * where no container gets a cgroup, and the code is not loaded then.
 */
async function cgroupOf(
  c: ContainerConfig,
): Promise<
  (CgroupPlan & { policy: typeof import("../cgroup/policy.ts") }) | undefined
> {
  if (!startNeedsCgroups(c.host)) return undefined;
  const policy = await lazy<typeof import("../cgroup/policy.ts")>(
    "src/cgroup/policy.ts",
  );
  const plan = policy.cgroupPlan(c.id, c.host);
  return plan && { ...plan, policy };
}

/**
 * Serves a fuse-overlayfs root init mounted on `fd` (fuse_root.ts): its
 * code loads only then.
 */
async function fuseDaemon(fd: number, pid: number, rootfs: OverlayRootfs) {
  const { serveFuseRoot } = await lazy<
    typeof import("../runtime/fuse_root.ts")
  >("src/runtime/fuse_root.ts");
  return await serveFuseRoot(fd, pid, rootfs);
}

/**
 * Checks the container's health while it runs, if it has a check: the
 * health code loads only then. Returns what ends the checks.
 */
async function healthWatch(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<(() => void) | undefined> {
  if (c.host.healthcheck === undefined) return undefined;
  const [{ hasHealthcheck }, { watchHealth }] = await Promise.all([
    lazy<typeof import("./health_config.ts")>(
      "src/container/health_config.ts",
    ),
    lazy<typeof import("./health_timer.ts")>(
      "src/container/health_timer.ts",
    ),
  ]);
  if (!hasHealthcheck(c.host.healthcheck)) return undefined;
  return await watchHealth(store, c);
}

/**
 * The container's link to systemd, when a unit listens (NOTIFY_SOCKET):
 * the notify code loads only then.
 */
async function notifier(mode?: SdNotifyMode): Promise<SdNotify | undefined> {
  if (!Deno.env.get("NOTIFY_SOCKET") || mode === "ignore") return undefined;
  const { SdNotify } = await lazy<typeof import("./sdnotify.ts")>(
    "src/container/sdnotify.ts",
  );
  return SdNotify.open(mode);
}

/**
 * The pause before restart number `n` (1 for the first): false when the
 * user stopped the container meanwhile.
 */
async function restartPause(
  store: ContainerStore,
  id: string,
  n: number,
): Promise<boolean> {
  await record(store, id, (s) => ({
    ...s,
    status: "restarting",
    restartCount: n,
  }));
  await new Promise((ok) => setTimeout(ok, backoff(n - 1)));
  const s = await record(
    store,
    id,
    (s) => s.stoppedByUser ? { ...s, status: "exited" } : s,
  );
  return s !== undefined && !s.stoppedByUser;
}

/**
 * Runs, restarts and finally releases the container the caller has claimed;
 * returns the exit code of the last run (125 when it could not start, and
 * the reason went to `sv.answer`).
 */
export async function supervise(
  store: ContainerStore,
  c: ContainerConfig,
  sv: Supervision,
): Promise<number> {
  const told = sv.answer;
  let answered = false;
  sv = {
    ...sv,
    answer: (h) => {
      if (!answered) told(h);
      answered = true;
    },
  };
  // Without a log, the output still goes to attached clients.
  const src = logSource(store, c);
  const log = keepsLog(c)
    ? new LogWriter(src.path, src.format, {
      maxSize: c.host.logMaxSize,
      maxFile: c.host.logMaxFile,
    })
    : undefined;
  const attach = new AttachServer(store.runDir(c.id));
  // A CLI that stays attached connects first; not for ever if it died.
  if (sv.waitForClient) await attach.firstClient(10_000);
  if (sv.size) attach.size = sv.size;
  let restarts = sv.restarts ?? 0;
  let lastCode = EXIT_ENGINE;
  let handedOff = false, gone = false;
  const notify = await notifier(c.host.sdnotify);
  try {
    let go = restarts === 0 || await restartPause(store, c.id, restarts);
    while (go) {
      let r: RunResult;
      try {
        r = await runOnce(store, c, log, attach, sv, notify);
      } catch (e) {
        const error = asPtdError(e).toData();
        r = { started: false, code: error.exitCode, error };
      }
      lastCode = r.code;
      let healthRestart = false;
      const s = await record(store, c.id, (s) => {
        healthRestart = !!s.healthRestart && !s.stoppedByUser;
        return {
          ...s,
          status: "exited",
          pid: 0,
          exitCode: r.code,
          finishedAt: new Date().toISOString(),
          error: r.error?.message ?? "",
          healthRestart: false,
          oomKilled: !!r.oomKilled,
          paused: false,
        };
      });
      if (!r.started) sv.answer({ ok: false, error: r.error });
      gone = s === undefined;
      // --health-on-failure=restart brings it back whatever the policy says.
      const again = healthRestart ||
        shouldRestart(c.host.restartPolicy, r.code, restarts);
      if (!s || !r.started || s.stoppedByUser || !again) break;
      restarts++;
      if (sv.handOff) {
        await sv.handOff(restarts);
        handedOff = true;
        break;
      }
      go = await restartPause(store, c.id, restarts);
    }
  } finally {
    sv.answer({
      ok: false,
      error: { kind: "internal", message: "monitor failed", exitCode: 125 },
    });
    log?.close();
    notify?.close();
    await attach.close(lastCode);
    // After a hand-off the state names the next host: leave it be. A --rm
    // container keeps naming us until it is removed, so that our death
    // before that leaves the removal to the next command (reconcile).
    if (!handedOff && !gone && !c.host.autoRemove) {
      await record(
        store,
        c.id,
        (s) =>
          s.monitorPid === Deno.pid
            ? { ...s, monitorPid: 0, monitorStart: "" }
            : s,
      );
    }
  }
  if (c.host.autoRemove && !handedOff && !gone) {
    if (!sv.foreground) {
      // Nobody may be waiting on a detached --rm container: its code stays
      // in an exit file for a later `wait` or an attached CLI.
      store.writeExitFile(c.id, lastCode);
    }
    trace("removing");
    await removeStored(store, c, true);
  }
  return lastCode;
}
