/**
 * `ptd monitor ID`: the conmon-like process that owns one container. It runs
 * in its own session, is the container's parent, pumps its stdout and stderr
 * into the log, records pid, times and exit code, applies the restart policy
 * and --rm. The CLI that spawned it reads one handshake line from its stdout
 * (see startContainer) and leaves; the monitor lives on.
 */
import {
  closeFd,
  dupOnto,
  inheritablePipe,
  newSession,
  pipeFromChild,
  setCloexec,
  setInheritable,
} from "../../ffi/fd.ts";
import { startInit, waitExit } from "../runtime/create.ts";
import {
  asPtdError,
  type ErrorData,
  errorFromJson,
  EXIT_ENGINE,
} from "../runtime/errors.ts";
import { ensureDir, storePaths } from "../storage/paths.ts";
import type { ContainerConfig, RestartPolicy } from "./config.ts";
import { LineSplitter, type LogRecord, LogWriter, type Stream } from "./log.ts";
import {
  AttachServer,
  RESIZE,
  STDERR,
  STDIN,
  STDIN_CLOSED,
  STDOUT,
} from "./attach.ts";
import { openPty, readFd, setWindowSize, writeFd } from "../../ffi/pty.ts";
import { processStart } from "./liveness.ts";
import { ContainerNetwork } from "./network.ts";
import { runtimeSpec } from "./spec.ts";
import { ContainerStore } from "./store.ts";
import { removeStored } from "./volumes.ts";
import type { Handshake } from "./handshake.ts";

/** How one run of the container ended. */
interface RunResult {
  started: boolean;
  code: number;
  error?: ErrorData;
}

async function pump(
  f: AsyncIterable<Uint8Array>,
  stream: Stream,
  emit: (r: LogRecord[]) => void,
  attach: AttachServer,
) {
  const split = new LineSplitter(stream);
  const kind = stream === "stdout" ? STDOUT : STDERR;
  for await (const chunk of f) {
    attach.broadcast(kind, chunk);
    emit(split.push(chunk));
  }
  emit(split.end());
}

/** A pty master as a stream; it ends (EIO) once no slave is open. */
async function* masterStream(master: number) {
  try {
    const buf = new Uint8Array(65536);
    for (let n; (n = await readFd(master, buf)) !== null;) {
      yield buf.slice(0, n);
    }
  } finally {
    closeFd(master);
  }
}

/** With -t, attached clients type into the pty and set its size. */
function terminalInput(master: number, attach: AttachServer) {
  return (kind: number, data: Uint8Array<ArrayBuffer>) => {
    if (kind === STDIN) writeFd(master, data);
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
    else if (kind === STDIN && open) writeFd(write, data);
  };
  return { read, close };
}

/** Whether the policy brings the container back after exit `code`. */
export function shouldRestart(
  p: RestartPolicy,
  code: number,
  restarts: number,
): boolean {
  switch (p.name) {
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure":
      return code !== 0 &&
        (p.maximumRetryCount === 0 || restarts < p.maximumRetryCount);
    default:
      return false;
  }
}

/** Docker's back-off between restarts: 100 ms, doubling, at most 5 s. */
function backoff(restarts: number): number {
  return Math.min(100 * 2 ** restarts, 5000);
}

/** Runs the container once: start, log, wait; `started` once it runs. */
async function runOnce(
  store: ContainerStore,
  c: ContainerConfig,
  log: LogWriter,
  attach: AttachServer,
  started: (pid: number) => void,
): Promise<RunResult> {
  const spec = await runtimeSpec(store, c);
  const out = pipeFromChild(), err = pipeFromChild(), fail = pipeFromChild();
  const net = new ContainerNetwork(store, c);
  const term = c.host.tty ? openPty() : undefined;
  const input = term ? undefined : stdinPipe(c, attach);
  if (term) {
    setInheritable(term.slave);
    spec.stdio = [term.slave, term.slave, term.slave];
    spec.terminal = true;
    // A terminal is stdin too, even without -i (Docker's -t).
    spec.process.stdin = true;
    attach.input = terminalInput(term.master, attach);
    if (attach.size) setWindowSize(term.master, ...attach.size);
  } else {
    // Without -i the monitor's own stdin, /dev/null, is the container's.
    spec.stdio = [input?.read ?? 0, out.write, err.write];
  }
  spec.errorFd = fail.write;
  let pid: number;
  try {
    pid = await startInit(spec, `${store.runDir(c.id)}/spec.json`, (pid) => {
      // The child has its copies; the network helpers must not hold them.
      for (const fd of [out.write, err.write, fail.write]) setCloexec(fd);
      return net.attach(pid);
    });
  } catch (e) {
    for (const f of [out.file, err.file, fail.file]) f.close();
    if (term) closeFd(term.master);
    throw e;
  } finally {
    for (const fd of [out.write, err.write, fail.write]) closeFd(fd);
    if (input) closeFd(input.read);
    if (term) closeFd(term.slave);
  }
  const emit = (recs: LogRecord[]) => log.write(recs);
  const pumps = Promise.all([
    pump(
      term ? masterStream(term.master) : out.file.readable,
      "stdout",
      emit,
      attach,
    ),
    pump(err.file.readable, "stderr", emit, attach),
  ]);
  const failure = await new Response(fail.file.readable).text();
  if (failure === "") {
    await store.updateState(c.id, (s) => ({
      ...s,
      status: "running",
      pid,
      startedAt: new Date().toISOString(),
      error: "",
    }));
    started(pid);
  }
  const code = await waitExit(pid);
  input?.close();
  await net.detach();
  await pumps;
  if (failure === "") return { started: true, code };
  const error = errorFromJson(failure).toData();
  return { started: false, code: error.exitCode, error };
}

function reply(h: Handshake) {
  try {
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(h) + "\n"));
  } catch { /* the CLI is gone: nobody to tell */ }
  // Let go of the CLI's pipe (fd 0 is /dev/null), so the CLI sees EOF.
  dupOnto(0, 1);
}

/** The monitor's life: runs and restarts the container, then cleans up. */
async function monitor(
  store: ContainerStore,
  c: ContainerConfig,
  options: { attached: boolean; size?: string },
) {
  await store.updateState(c.id, (s) => ({
    ...s,
    monitorPid: Deno.pid,
    monitorStart: processStart(Deno.pid) ?? "",
    stoppedByUser: false,
    restartCount: 0,
    error: "",
  }));
  const log = new LogWriter(store.logFile(c.id), c.host.logMaxSize);
  const attach = new AttachServer(store.runDir(c.id));
  // A CLI that stays attached connects first; not for ever if it died.
  if (options.attached) await attach.firstClient(10_000);
  const size = /^(\d+)x(\d+)$/.exec(options.size ?? "");
  if (size) attach.size = [Number(size[1]), Number(size[2])];
  let lastCode = EXIT_ENGINE;
  let answered = false;
  const answer = (h: Handshake) => {
    if (answered) return;
    answered = true;
    reply(h);
  };
  try {
    for (let restarts = 0;; restarts++) {
      let r: RunResult;
      try {
        r = await runOnce(
          store,
          c,
          log,
          attach,
          (pid) => answer({ ok: true, pid }),
        );
      } catch (e) {
        const error = asPtdError(e).toData();
        r = { started: false, code: error.exitCode, error };
      }
      const s = await store.updateState(c.id, (s) => ({
        ...s,
        status: "exited",
        pid: 0,
        exitCode: r.code,
        finishedAt: new Date().toISOString(),
        error: r.error?.message ?? "",
      }));
      lastCode = r.code;
      if (!r.started) answer({ ok: false, error: r.error });
      if (
        !r.started || s.stoppedByUser ||
        !shouldRestart(c.host.restartPolicy, r.code, restarts)
      ) break;
      await store.updateState(c.id, (s) => ({
        ...s,
        status: "restarting",
        restartCount: restarts + 1,
      }));
      await new Promise((ok) => setTimeout(ok, backoff(restarts)));
      if (store.state(c.id).stoppedByUser) {
        await store.updateState(c.id, (s) => ({ ...s, status: "exited" }));
        break;
      }
    }
  } finally {
    answer({
      ok: false,
      error: { kind: "internal", message: "monitor failed", exitCode: 125 },
    });
    log.close();
    await attach.close(lastCode);
    await store.updateState(c.id, (s) => ({
      ...s,
      monitorPid: 0,
      monitorStart: "",
    }));
  }
  if (c.host.autoRemove) {
    ensureDir(`${store.paths.runtime}/exits`);
    Deno.writeTextFileSync(store.exitFile(c.id), `${lastCode}\n`);
    await removeStored(store, c, true);
  }
}

/** Entry of `ptd monitor ID [--attached] [--size=ROWSxCOLS]`. */
export async function monitorMain(args: string[]): Promise<number> {
  newSession();
  // Hold no directory of the caller's busy.
  Deno.chdir("/");
  const store = new ContainerStore(storePaths());
  const c = store.find(args[0]);
  try {
    await monitor(store, c, {
      attached: args.includes("--attached"),
      size: args.find((a) => a.startsWith("--size="))?.slice(7),
    });
  } catch (e) {
    // stderr is /dev/null: leave the reason where inspect and a human look.
    try {
      const msg = e instanceof Error ? e.stack ?? e.message : String(e);
      Deno.writeTextFileSync(`${store.dir(c.id)}/monitor.err`, `${msg}\n`, {
        append: true,
      });
      await store.updateState(c.id, (s) => ({
        ...s,
        error: `monitor: ${e instanceof Error ? e.message : String(e)}`,
      }));
    } catch { /* the container is gone already (--rm) */ }
    return 1;
  }
  return 0;
}
