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

/** Creates a directory (and parents) private to the user, if missing. */
export function ensureDir(path: string, mode = 0o700): string {
  Deno.mkdirSync(path, { recursive: true, mode });
  return path;
}
