/**
 * A container's confinement as Podman sets it: the seccomp program compiled
 * once, at create, into the store's cache (the container names it; start
 * and exec read it, as Podman's OCI spec carries the profile), and the
 * capability sets of its process.
 */
import { ALL_CAPS, normalizeCap, resolveCaps } from "../runtime/caps.ts";
import { seccompProgram, UNCONFINED } from "../security/seccomp.ts";
import type { ContainerConfig, HostConfig } from "./config.ts";
import type { ContainerStore } from "./store.ts";

/** Where a container created before the cache was named kept its program. */
function ownCopy(store: ContainerStore, id: string): string {
  return `${store.dir(id)}/seccomp.bpf`;
}

/** Whether the container runs under a seccomp filter. */
function confined(host: HostConfig): boolean {
  return !host.privileged && host.seccompProfile !== undefined &&
    host.seccompProfile !== UNCONFINED;
}

/**
 * The file of the container's seccomp program, compiled (or found in the
 * cache) before anything is created, so that a bad profile leaves nothing
 * behind; none when unconfined or privileged.
 */
export function containerSeccomp(
  dataDir: string,
  host: HostConfig,
): Promise<string> | undefined {
  if (!confined(host)) return undefined;
  return seccompProgram(
    dataDir,
    host.seccompProfile!,
    resolveCaps(host.capAdd, host.capDrop, host.privileged),
  );
}

/** The program init or exec loads, as stored at create; none if unconfined. */
export function storedSeccomp(
  store: ContainerStore,
  c: ContainerConfig,
): Uint8Array | undefined {
  return confined(c.host)
    ? Deno.readFileSync(c.host.seccompProgram ?? ownCopy(store, c.id))
    : undefined;
}

/**
 * What a user other than root keeps, as Podman gives it: the --cap-add
 * capabilities (ALL: every one), in the effective, permitted, inheritable
 * and ambient sets.
 */
export function userCapabilities(host: HostConfig): string[] {
  const adds = host.capAdd.map(normalizeCap);
  return adds.includes("CAP_ALL") ? [...ALL_CAPS] : adds;
}

/** Directories of /dev Podman does not look into for devices. */
const NOT_DEVICES = ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts"];

/**
 * The host's device nodes a rootless privileged container gets, bound from
 * the host as Podman binds them: every character and block device under
 * /dev, except the console, the terminals and those ptd gives every
 * container (`own`).
 */
export function privilegedDevices(own: string[], dir = "/dev"): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (!NOT_DEVICES.includes(e.name)) {
        out.push(...privilegedDevices(own, path));
      }
      continue;
    }
    if (e.isSymlink || e.name === "console" || e.name === "ptmx") continue;
    if (path.startsWith("/dev/tty") || own.includes(path)) continue;
    try {
      const st = Deno.lstatSync(path);
      if (st.isCharDevice || st.isBlockDevice) out.push(path);
    } catch { /* gone meanwhile */ }
  }
  return out;
}
