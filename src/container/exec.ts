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
import { closeFd, isInherited, openRaw, setCloexec } from "../../ffi/fd.ts";
import { openPty, readFd, setWindowSize, writeFd } from "../../ffi/pty.ts";
import { exitCode, waitStatus } from "../../ffi/clone.ts";
import { capNumber, resolveCaps } from "../runtime/caps.ts";
import { containerEnv, envPath } from "../runtime/process.ts";
import { resolveUser } from "../runtime/user.ts";
import { type ContainerConfig, hostnameOf } from "./config.ts";
import { monitorAlive, reconcile } from "./liveness.ts";
import { relaySignals } from "./signals.ts";
import { type ContainerStore, vfsRoot } from "./store.ts";

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
  /**
   * Raw descriptors for the command's 0/1/2 instead of ours (cp's pipes);
   * they are closed here once the command has them.
   */
  stdio?: [number, number, number];
  /** --privileged: every capability, whatever the container was given. */
  privileged?: boolean;
  /** --preserve-fds: descriptors 3..3+N-1 of ours go to the command. */
  preserveFds?: number;
}

/**
 * Descriptors this process inherited past 3..3+keep-1 stay out of the
 * command (close-on-exec), as with Podman's exec: a shell's open files do
 * not leak into the container unless --preserve-fds passes them.
 */
function passOnly(keep: number) {
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(e.name);
    if (fd >= 3 + keep && isInherited(fd)) setCloexec(fd);
  }
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
): Promise<number> {
  return execInContainer(store, c, {
    command,
    env: [],
    interactive: false,
    detach: false,
    tty: false,
    stdio,
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
    c.host.groupAdd,
  );
  const env = containerEnv(overlayEnv(c.env, opts.env), user, hostnameOf(c));
  const cmd = opts.command[0];
  const paths = cmd.includes("/")
    ? [cmd]
    : envPath(env).split(":").map((d) => `${d || "."}/${cmd}`);
  const devnull = openRaw("/dev/null", "readwrite");
  const pty = opts.tty && !opts.detach ? openPty() : undefined;
  if (pty) copyWindowSize(pty.master);
  if (!opts.stdio) passOnly(opts.preserveFds ?? 0);
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
      caps: resolveCaps(
        c.host.capAdd,
        c.host.capDrop,
        c.host.privileged || !!opts.privileged,
      ).map(capNumber),
      lastCap: Number(readOrEmpty("/proc/sys/kernel/cap_last_cap").trim()),
      noNewPrivs: c.host.noNewPrivileges,
      rootFd,
      stdio: opts.stdio ??
        (pty
          ? [pty.slave, pty.slave, pty.slave]
          : opts.detach
          ? [devnull, devnull, devnull]
          : [opts.interactive ? 0 : devnull, 1, 2]),
      tty: !!pty,
    });
  } finally {
    for (const fd of [devnull, rootFd, ...nsFds]) closeFd(fd);
    for (const fd of opts.stdio ?? []) if (fd > 2) closeFd(fd);
    if (pty) closeFd(pty.slave);
  }
  if ("failure" in result) {
    if (pty) closeFd(pty.master);
    throw execError(result.failure, cmd, opts);
  }
  if (opts.detach) return 0;
  const stop = relaySignals(result.pid);
  const endRelay = pty ? relayTerminal(pty.master, opts.interactive) : null;
  try {
    return exitCode(await waitStatus(result.pid));
  } finally {
    stop();
    await endRelay?.();
  }
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
 * (raw, when it is a terminal) to the master, window size kept in step.
 * Returns what ends it: waits briefly for the last output, restores the
 * terminal.
 */
function relayTerminal(master: number, interactive: boolean) {
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
      for await (const chunk of Deno.stdin.readable) writeFd(master, chunk);
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
