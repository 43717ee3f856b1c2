/**
 * Log drivers as Podman names them: k8s-file (Podman's format), json-file
 * (Docker's format), none and passthrough (no log: with passthrough the
 * command writes straight to the caller's stdio). journald needs a journal
 * to write to: without one it is refused in Podman's words; with one, ptd
 * says it has no journald writer rather than log elsewhere. --log-opt:
 * max-size, max-file, path and tag.
 */
import type { ContainerConfig, HostConfig } from "./config.ts";
import type { LogSource } from "./log_reader.ts";
import type { ContainerStore } from "./store.ts";
import { invalid } from "../runtime/errors.ts";

const JOURNAL_SOCKET = "/run/systemd/journal/socket";

/** Refuses a log driver ptd cannot honour, before anything is created. */
export function checkLogDriver(driver: string | undefined): void {
  if (
    driver === undefined ||
    ["k8s-file", "json-file", "none", "passthrough"].includes(driver)
  ) return;
  if (driver !== "journald") {
    throw invalid(
      "running container create option: invalid log driver: invalid argument",
    );
  }
  try {
    Deno.statSync(JOURNAL_SOCKET);
  } catch {
    throw invalid(
      `failed to initialize journal: write unixgram ->${JOURNAL_SOCKET}: ` +
        "sendmsg: no such file or directory",
    );
  }
  throw invalid("ptd does not implement the journald log driver: use k8s-file");
}

/**
 * passthrough gives the command the caller's own stdio: there is none to
 * give a detached container, and on a terminal the command could type
 * into the caller's shell (TIOCSTI), so Podman refuses both.
 */
export function checkPassthrough(
  driver: string | undefined,
  detached: boolean,
): void {
  if (driver !== "passthrough") return;
  if (detached) {
    throw invalid(
      "the '--log-driver passthrough' option cannot be used with --detach",
    );
  }
  if (
    Deno.stdin.isTerminal() || Deno.stdout.isTerminal() ||
    Deno.stderr.isTerminal()
  ) {
    throw invalid(
      "the '--log-driver passthrough' option cannot be used on a TTY",
    );
  }
}

/** --log-opt path: its directory must be there for the monitor to write. */
export function checkLogPath(path: string | undefined): void {
  if (path === undefined) return;
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  try {
    if (Deno.statSync(dir).isDirectory) return;
  } catch { /* missing: refused below */ }
  throw invalid(`log path ${path}: directory ${dir} does not exist`);
}

/** Whether the container's output goes to its log file. */
export function keepsLog(c: ContainerConfig): boolean {
  return !["none", "passthrough"].includes(c.host.logDriver ?? "k8s-file");
}

/** Where the container's log is, in which format. */
export function logSource(
  store: ContainerStore,
  c: ContainerConfig,
): LogSource {
  return {
    path: c.host.logPath ?? store.logFile(c.id),
    format: c.host.logDriver === "json-file" ? "json-file" : "k8s-file",
    maxFile: c.host.logMaxFile,
  };
}

/** Podman's refusal to read the log of a container that keeps none. */
export function checkKeepsLog(c: ContainerConfig): void {
  if (keepsLog(c)) return;
  throw invalid(
    `this container is using the '${c.host.logDriver}' log driver, cannot ` +
      "read logs: this container is not logging output",
  );
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  p: 1e15,
};

/**
 * A size as Podman reads max-size (go-units FromHumanSize): decimal units,
 * "5.039m", "10MB", "1.5kb", "2MiB".
 */
export function parseLogSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?$/i.exec(text);
  if (!m) throw invalid(`invalid size: '${text}'`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
}

/** The settings --log-opt values make. */
export type LogOptions = Pick<
  HostConfig,
  "logMaxSize" | "logMaxFile" | "logPath" | "logTag"
>;

/** --log-opt NAME=VALUE items (Podman's names; others are ignored, as Podman does). */
export function parseLogOpts(items: string[]): LogOptions {
  const out: LogOptions = {};
  for (const item of items) {
    const i = item.indexOf("=");
    if (i < 0) throw invalid(`invalid log option "${item}"`);
    const [name, value] = [item.slice(0, i), item.slice(i + 1)];
    if (name === "max-size") out.logMaxSize = parseLogSize(value);
    else if (name === "max-file") {
      if (!/^[1-9]\d*$/.test(value)) {
        throw invalid(`invalid value for log option max-file: "${value}"`);
      }
      out.logMaxFile = Number(value);
    } else if (name === "path") {
      if (!value.startsWith("/")) {
        throw invalid(`log path ${value} must be an absolute path`);
      }
      out.logPath = value;
    } else if (name === "tag") out.logTag = value;
  }
  return out;
}

/** The size inspect shows for max-size: go-units HumanSize, as Podman. */
export function humanLogSize(bytes = 0): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let n = bytes, i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}
