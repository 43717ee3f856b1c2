/**
 * `exec`: a new process in a running container, entered with setns() from a
 * native routine (ffi/enter.ts). The CLI is its parent and returns its exit
 * code; nothing of ptd itself runs inside the container.
 */
import {
  conflict,
  EXIT_CANNOT_INVOKE,
  EXIT_NOT_FOUND,
  PtdError,
} from "../runtime/errors.ts";
import { enterExec } from "../../ffi/enter.ts";
import {
  closeFd,
  inheritablePipe,
  openRaw,
  pipeFromChild,
  setCloexec,
} from "../../ffi/fd.ts";
import { openPty, readFd, setWindowSize, writeFd } from "../../ffi/pty.ts";
import { exitCode, waitStatus } from "../../ffi/clone.ts";
import { capNumber, resolveCaps } from "../runtime/caps.ts";
import { containerEnv, envPath } from "../runtime/process.ts";
import { resolveUser } from "../runtime/user.ts";
import { lazy } from "../runtime/lazy.ts";
import { type ContainerConfig, hostnameOf } from "./config.ts";
import { usernsGroups } from "./namespaces.ts";
import { monitorAlive, reconcile } from "./liveness.ts";
import type { Stream } from "./log.ts";
import { relaySignals } from "./signals.ts";
import { parseDetachKeys, scanDetach } from "./detach_keys.ts";
import { type ContainerStore, vfsRoot } from "./store.ts";
import { storedSeccomp, userCapabilities } from "./confine.ts";

/** What `exec` runs, and how. */
export interface ExecOptions {
  command: string[];
  /** Added to the container's environment (later entries win). */
  env: string[];
  user?: string;
  workdir?: string;
  /** Give the process the caller's stdin (otherwise /dev/null). */
  interactive: boolean;
  /** Do not wait: stdio goes to /dev/null and 0 is returned at once. */
  detach: boolean;
  /** Run on a new pseudo-terminal relayed to ours (-t). */
  tty: boolean;
  /** With -it: the keys that leave the command (default ctrl-p,ctrl-q). */
  detachKeys?: string;
  /**
   * Raw descriptors for the command's 0/1/2 instead of ours (cp's pipes);
   * they are closed here once the command has them.
   */
  stdio?: [number, number, number];
  /** Told the command's pid once it runs (a health check's timeout needs it). */
  started?: (pid: number) => void;
  /** --privileged: every capability, whatever the container was given. */
  privileged?: boolean;
  /** --preserve-fds: descriptors 3..3+N-1 of ours go to the command. */
  preserveFds?: number;
}

/** setns order: user first (it grants the rights for the rest), pid last. */
const NAMESPACES = ["user", "mnt", "uts", "ipc", "net", "cgroup", "pid"];

/** The container's namespace fds, skipping any it shares with us. */
function namespaceFds(pid: number): number[] {
  return NAMESPACES.filter((ns) =>
    Deno.readLinkSync(`/proc/${pid}/ns/${ns}`) !==
      Deno.readLinkSync(`/proc/self/ns/${ns}`)
  ).map((ns) => openRaw(`/proc/${pid}/ns/${ns}`));
}

const readOrEmpty = (path: string) => {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
};

/**
 * A file of the container as its layers and upper dir hold it. The merged
 * view is a mount only the container's user namespace may enter (FUSE), and
 * the files ptd asks for (passwd, group) are plain ones, so the topmost copy
 * is the one the container sees.
 */
export function readContainerFile(
  store: ContainerStore,
  c: ContainerConfig,
  path: string,
): string {
  const dirs = c.storageDriver === "vfs"
    ? [vfsRoot(store, c)]
    : [`${store.dir(c.id)}/upper`, ...c.layers];
  for (const dir of dirs) {
    const text = readOrEmpty(`${dir}${path}`);
    if (text) return text;
  }
  return "";
}

/**
 * The container's env secrets, which an exec'd command gets too, as in
 * Podman; the secret code loads only for a container that has them.
 */
async function envSecrets(
  store: ContainerStore,
  c: ContainerConfig,
): Promise<string[]> {
  if (!c.host.secrets?.some((u) => u.type === "env")) return [];
  const { secretEnv, SecretStore } = await lazy<
    typeof import("../secret/use.ts")
  >("src/secret/use.ts");
  return secretEnv(new SecretStore(store.paths), c.host.secrets);
}

/** Later KEY=... entries replace earlier ones. */
function overlayEnv(base: string[], extra: string[]): string[] {
  const key = (e: string) => e.split("=", 1)[0];
  const keys = new Set(extra.map(key));
  return [...base.filter((e) => !keys.has(key(e))), ...extra];
}

/**
 * Runs `command` in `c` as its default user, on the raw descriptors `stdio`
 * (closed here, except 0-2); returns its exit code.
 */
export function execWithStdio(
  store: ContainerStore,
  c: ContainerConfig,
  command: string[],
  stdio: [number, number, number],
  started?: (pid: number) => void,
): Promise<number> {
  return execInContainer(store, c, {
    command,
    env: [],
    interactive: false,
    detach: false,
    tty: false,
    stdio,
    started,
  });
}

/** Runs `opts.command` in the running container `c`; returns its exit code. */
export async function execInContainer(
  store: ContainerStore,
  c: ContainerConfig,
  opts: ExecOptions,
): Promise<number> {
  const s = await reconcile(store, c.id);
  if (s.status !== "running" || !monitorAlive(s)) {
    throw conflict(
      `can only create exec sessions on running containers: container ${c.id} is ${s.status}: container state improper`,
    );
  }
  const user = resolveUser(
    opts.user ?? c.user,
    readContainerFile(store, c, "/etc/passwd"),
    readContainerFile(store, c, "/etc/group"),
    // Podman's exec -u drops the group keep-id and nomap add.
    opts.user === undefined
      ? [...c.host.groupAdd, ...usernsGroups(c.host.userns)]
      : c.host.groupAdd,
  );
  const env = containerEnv(
    overlayEnv([...c.env, ...await envSecrets(store, c)], opts.env),
    user,
    hostnameOf(c),
  );
  const cmd = opts.command[0];
  const paths = cmd.includes("/")
    ? [cmd]
    : envPath(env).split(":").map((d) => `${d || "."}/${cmd}`);
  const keys = parseDetachKeys(opts.detachKeys);
  const devnull = openRaw("/dev/null", "readwrite");
  // With `stdio` given, a -t caller brings its own pty (execStreams).
  const pty = opts.tty && !opts.detach && !opts.stdio
    ? execPty(s.pid)
    : undefined;
  if (pty) copyWindowSize(pty.master);
  const bounding = resolveCaps(
    c.host.capAdd,
    c.host.capDrop,
    c.host.privileged || !!opts.privileged,
  );
  const nsFds = namespaceFds(s.pid);
  const rootFd = openRaw(`/proc/${s.pid}/root`, "path");
  let result;
  try {
    result = await enterExec({
      nsFds,
      paths,
      argv: opts.command,
      env,
      cwd: opts.workdir ?? (c.workdir || "/"),
      groups: readOrEmpty(`/proc/${s.pid}/setgroups`).trim() === "deny"
        ? null
        : user.groups,
      uid: user.uid,
      gid: user.gid,
      caps: bounding.map(capNumber),
      ambient: user.uid === 0
        ? []
        : userCapabilities(c.host).filter((cap) => bounding.includes(cap))
          .map(capNumber),
      lastCap: Number(readOrEmpty("/proc/sys/kernel/cap_last_cap").trim()),
      noNewPrivs: c.host.noNewPrivileges,
      seccomp: storedSeccomp(store, c),
      preserveFds: opts.preserveFds,
      rootFd,
      stdio: opts.stdio ??
        (pty
          ? [pty.slave, pty.slave, pty.slave]
          : opts.detach
          ? [devnull, devnull, devnull]
          : [opts.interactive ? 0 : devnull, 1, 2]),
      tty: !!pty || (opts.tty && !!opts.stdio),
    });
  } finally {
    for (const fd of [devnull, rootFd, ...nsFds]) closeFd(fd);
    for (const fd of new Set(opts.stdio)) if (fd > 2) closeFd(fd);
    if (pty) closeFd(pty.slave);
  }
  if ("failure" in result) {
    if (pty) closeFd(pty.master);
    throw execError(result.failure, cmd, opts);
  }
  if (opts.detach) return 0;
  opts.started?.(result.pid);
  // Signals to us are the user's for the command only when it has our stdio
  // (not cp's pipes, not a monitor's health check).
  const stop = opts.stdio ? () => {} : relaySignals(result.pid);
  const detached = Promise.withResolvers<number>();
  const endRelay = pty
    ? relayTerminal(pty.master, opts.interactive, keys, async () => {
      // The command goes on without us: something must hold its terminal.
      try {
        const { holdTerminal } = await lazy<typeof import("./exec_hold.ts")>(
          "src/container/exec_hold.ts",
        );
        holdTerminal(pty.master);
      } finally {
        detached.resolve(0);
      }
    })
    : null;
  try {
    return await Promise.race([
      waitStatus(result.pid).then(exitCode),
      detached.promise,
    ]);
  } finally {
    stop();
    await endRelay?.();
  }
}

/**
 * A pty from the container's own devpts, so the command's terminal has a
 * name there; a root only its own user namespace may enter (FUSE) keeps
 * it out of reach, and the host's devpts serves then.
 */
function execPty(pid: number) {
  const pts = `/proc/${pid}/root/dev/pts`;
  try {
    return openPty(pts, `${pts}/ptmx`);
  } catch {
    return openPty();
  }
}

/**
 * Writes to `fd`, each write after the one before (a write waits on a
 * worker thread, so two at once could land out of order), and closes it
 * after the last; a failed write means the command is gone, and its exit
 * tells the caller. Nothing is written once it is closed, so no write
 * reaches a descriptor number used again.
 */
function inOrder(
  fd: number,
): { write(d: Uint8Array<ArrayBuffer>): void; close(): void } {
  let last = Promise.resolve();
  let open = true;
  return {
    write(data) {
      if (open) last = last.then(() => writeFd(fd, data)).catch(() => {});
    },
    close() {
      if (open) last = last.then(() => closeFd(fd));
      open = false;
    },
  };
}

/** An exec whose stdio the caller relays (the REST API), not ours. */
export interface ExecStreams {
  /** The command's output; with a tty all of it is "stdout". */
  output: AsyncIterable<[Stream, Uint8Array]>;
  /** Feeds its stdin (nothing without `interactive`). */
  write(data: Uint8Array<ArrayBuffer>): void;
  closeStdin(): void;
  /** Sets the terminal size (with a tty). */
  resize(rows: number, cols: number): void;
  /** Its exit code; a command that cannot start rejects with a PtdError. */
  exit: Promise<number>;
}

/**
 * Reads a raw fd to its end (EOF, or EIO of a pty whose slave closed),
 * then has it closed.
 */
async function* rawChunks(
  fd: number,
  close: () => void,
): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(65536);
  try {
    for (let n; (n = await readFd(fd, buf)) !== null;) yield buf.slice(0, n);
  } finally {
    close();
  }
}

/** Tags each chunk of `chunks` with `stream`. */
async function* tagged(
  stream: Stream,
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<[Stream, Uint8Array]> {
  for await (const c of chunks) yield [stream, c];
}

/** stdout and stderr as they come, interleaved. */
async function* merged(
  a: AsyncIterator<[Stream, Uint8Array]>,
  b: AsyncIterator<[Stream, Uint8Array]>,
): AsyncGenerator<[Stream, Uint8Array]> {
  const pending = new Map([a, b].map((it) => [it, it.next()]));
  while (pending.size > 0) {
    const [it, r] = await Promise.race(
      [...pending].map(([it, p]) => p.then((r) => [it, r] as const)),
    );
    if (r.done) pending.delete(it);
    else {
      pending.set(it, it.next());
      yield r.value;
    }
  }
}

/**
 * Runs `opts.command` in `c` with its stdio on pipes (or, with `tty`, a
 * new pty) that the caller reads and writes. Every descriptor is
 * close-on-exec here: only the command gets its ends (by dup2), so a
 * monitor spawned meanwhile holds none of them open.
 */
export function execStreams(
  store: ContainerStore,
  c: ContainerConfig,
  opts: ExecOptions,
): ExecStreams {
  if (opts.tty) {
    const pty = openPty();
    const exit = execInContainer(store, c, {
      ...opts,
      detach: false,
      stdio: [pty.slave, pty.slave, pty.slave],
    });
    const master = inOrder(pty.master);
    return {
      output: tagged("stdout", rawChunks(pty.master, master.close)),
      write: opts.interactive ? master.write : () => {},
      closeStdin: () => {},
      resize: (rows, cols) => setWindowSize(pty.master, rows, cols),
      exit,
    };
  }
  const [inRead, inWrite] = opts.interactive
    ? inheritablePipe()
    : [openRaw("/dev/null"), -1];
  setCloexec(inRead);
  if (inWrite >= 0) setCloexec(inWrite);
  const stdin = inWrite >= 0 ? inOrder(inWrite) : { write() {}, close() {} };
  const out = pipeFromChild(true), err = pipeFromChild(true);
  const exit = execInContainer(store, c, {
    ...opts,
    detach: false,
    stdio: [inRead, out.write, err.write],
  });
  exit.catch(() => {}).finally(stdin.close);
  return {
    output: merged(
      tagged("stdout", out.file.readable)[Symbol.asyncIterator](),
      tagged("stderr", err.file.readable)[Symbol.asyncIterator](),
    ),
    write: stdin.write,
    closeStdin: stdin.close,
    resize: () => {},
    exit,
  };
}

/** Gives the pty our terminal's size (a command may ask at once). */
function copyWindowSize(master: number) {
  try {
    const { rows, columns } = Deno.consoleSize();
    setWindowSize(master, rows, columns);
  } catch { /* not a terminal: keep the default size */ }
}

/**
 * Connects the pty master to the caller's terminal: output to stdout, stdin
 * (raw, when it is a terminal) to the master up to the detach `keys` (then
 * `detach`), window size kept in step. Returns what ends it: waits briefly
 * for the last output, restores the terminal.
 */
function relayTerminal(
  master: number,
  interactive: boolean,
  keys: number[],
  detach: () => void,
) {
  const resize = () => copyWindowSize(master);
  Deno.addSignalListener("SIGWINCH", resize);
  const raw = interactive && Deno.stdin.isTerminal();
  if (raw) Deno.stdin.setRaw(true);
  const output = (async () => {
    const buf = new Uint8Array(65536);
    for (let n; (n = await readFd(master, buf)) !== null;) {
      Deno.stdout.writeSync(buf.subarray(0, n));
    }
  })();
  if (interactive) {
    (async () => {
      const held = { n: 0 };
      for await (const chunk of Deno.stdin.readable) {
        const typed = scanDetach(chunk, keys, held);
        if (typed.send.length > 0) await writeFd(master, typed.send);
        if (typed.detach) return detach();
      }
    })().catch(() => {/* the command is gone: nowhere to write */});
  }
  return async () => {
    // A background process may hold the pty open: do not wait for it.
    await Promise.race([output, new Promise((ok) => setTimeout(ok, 300))]);
    Deno.removeSignalListener("SIGWINCH", resize);
    if (raw) Deno.stdin.setRaw(false);
  };
}

function execError(code: number, cmd: string, opts: ExecOptions): PtdError {
  if (code === EXIT_NOT_FOUND) {
    return new PtdError(
      "command-not-found",
      cmd.includes("/")
        ? `${cmd}: no such file or directory`
        : `${cmd}: executable file not found in $PATH`,
    );
  }
  if (code === EXIT_CANNOT_INVOKE) {
    const where = opts.workdir ? ` (or working directory ${opts.workdir})` : "";
    return new PtdError(
      "cannot-invoke",
      `${cmd}${where}: permission denied or cannot be run`,
    );
  }
  return new PtdError("internal", "cannot enter the container's namespaces");
}
