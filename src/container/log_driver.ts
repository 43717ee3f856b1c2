/**
 * Log drivers as Podman names them. ptd writes k8s-file logs (json-file is
 * Podman's alias of it); none and passthrough keep no log. journald needs
 * a journal to write to: without one it is refused in Podman's words; with
 * one, ptd says it has no journald writer rather than log elsewhere.
 */
import type { ContainerConfig } from "./config.ts";
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

/** Whether the container's output goes to its log file. */
export function keepsLog(c: ContainerConfig): boolean {
  return !["none", "passthrough"].includes(c.host.logDriver ?? "k8s-file");
}

/** Podman's refusal to read the log of a container that keeps none. */
export function checkKeepsLog(c: ContainerConfig): void {
  if (keepsLog(c)) return;
  throw invalid(
    `this container is using the '${c.host.logDriver}' log driver, cannot ` +
      "read logs: this container is not logging output",
  );
}

/** --log-opt values; only max-size (k, m, g suffixes) is supported. */
export function parseLogOpts(items: string[]): { logMaxSize?: number } {
  const out: { logMaxSize?: number } = {};
  for (const item of items) {
    const m = /^max-size=(\d+)([kmg]?)b?$/i.exec(item);
    if (!m) throw invalid(`unsupported --log-opt ${JSON.stringify(item)}`);
    const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
    out.logMaxSize = Number(m[1]) *
      unit[m[2].toLowerCase() as keyof typeof unit];
  }
  return out;
}
