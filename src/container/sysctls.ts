/**
 * --sysctl KEY=VALUE as Podman takes it: only the knobs a container's own
 * namespaces scope (IPC's kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*;
 * the network namespace's net.*), and none of a namespace it shares with
 * the host. init writes them under /proc/sys (runtime/rootfs.ts).
 */
import { invalid } from "../runtime/errors.ts";
import type { HostConfig } from "./config.ts";

/** IPC namespace knobs, by name; fs.mqueue.* counts too. */
const IPC_KNOBS = [
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
];

/** KEY=VALUE items to a record, refused in Podman's words. */
export function parseSysctls(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf("=");
    if (i <= 0) {
      throw invalid(
        `${item} is invalid, sysctl values must be in the form of KEY=VALUE`,
      );
    }
    const key = item.slice(0, i);
    if (
      !IPC_KNOBS.includes(key) && !key.startsWith("fs.mqueue.") &&
      !key.startsWith("net.")
    ) throw invalid(`sysctl '${key}' is not allowed`);
    out[key] = item.slice(i + 1);
  }
  return out;
}

/** A knob of a namespace the container shares with the host is refused. */
export function checkSysctls(host: HostConfig): void {
  for (const [key, value] of Object.entries(host.sysctls ?? {})) {
    const shared = key.startsWith("net.")
      ? host.network === "host" && "Network"
      : host.ipc === "host" && "IPC";
    if (shared) {
      throw invalid(
        `sysctl ${key}=${value} can't be set since ${shared} Namespace set to host: invalid argument`,
      );
    }
  }
}
