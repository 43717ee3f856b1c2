/**
 * Where ptd keeps things. Rootless: $XDG_DATA_HOME/ptd for data that lives
 * on, $XDG_RUNTIME_DIR/ptd for what a reboot should forget. Root: /var/lib/ptd
 * and /run/ptd, as Podman does with its own names.
 */

/** The directories of one ptd store. */
export interface StorePaths {
  /** Persistent data: blobs, layers, images, containers, volumes. */
  data: string;
  /** Runtime state: sockets, pid files; gone at reboot. */
  runtime: string;
  /** True when ptd runs as an unprivileged user (user namespaces needed). */
  rootless: boolean;
}

function env(name: string): string | undefined {
  const v = Deno.env.get(name);
  return v && v.length > 0 ? v : undefined;
}

/** The store paths for the calling user, honouring PTD_ROOT/PTD_RUNROOT. */
export function storePaths(): StorePaths {
  const uid = Deno.uid() ?? 0;
  const rootless = uid !== 0;
  const home = env("HOME") ?? "/";
  const data = env("PTD_ROOT") ??
    (rootless
      ? `${env("XDG_DATA_HOME") ?? `${home}/.local/share`}/ptd`
      : "/var/lib/ptd");
  const runtime = env("PTD_RUNROOT") ??
    (rootless
      ? (env("XDG_RUNTIME_DIR")
        ? `${env("XDG_RUNTIME_DIR")}/ptd`
        : `/tmp/ptd-run-${uid}`)
      : "/run/ptd");
  return { data, runtime, rootless };
}

/**
 * Points this process, and every process it starts (monitor, helpers), at
 * another store: `--root` and `--runroot` travel as the PTD_ROOT/PTD_RUNROOT
 * a child inherits, since a monitor reads its paths from there.
 */
export function useStoreRoots(roots: { data?: string; runtime?: string }) {
  const abs = (p: string) => p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  if (roots.data) Deno.env.set("PTD_ROOT", abs(roots.data));
  if (roots.runtime) Deno.env.set("PTD_RUNROOT", abs(roots.runtime));
}

/**
 * The storage drivers ptd has: "overlay" (native overlayfs with userxattr,
 * fuse-overlayfs where the kernel refuses it) and "vfs" (a private full
 * copy of the layers as each container's root).
 */
export const STORAGE_DRIVERS = ["overlay", "vfs"];

/** Whether ptd's store can work with the storage driver `name`. */
export function supportsDriver(name: string): boolean {
  return STORAGE_DRIVERS.includes(name);
}

/** Creates a directory (and parents) private to the user, if missing. */
export function ensureDir(path: string, mode = 0o700): string {
  Deno.mkdirSync(path, { recursive: true, mode });
  return path;
}

/**
 * What follows a layer's path in the name of a copy re-owned for a user
 * namespace (reown.ts), kept here for the layer collector.
 */
export const REOWNED = ".reowned-";

/** The layer a re-owned copy (or its temp) was made from; others as they are. */
export function copiedLayer(path: string): string {
  const at = path.lastIndexOf(REOWNED);
  return at < 0 ? path : path.slice(0, at);
}
