/**
 * Where the bench runs both engines: one temp dir holds ptd's store, Podman's
 * storage (--root, --runroot, --tmpdir) and config (registries.conf,
 * containers.conf) and a private XDG_RUNTIME_DIR, so nothing of the user's
 * own containers is read or touched, and cleanup can remove it all.
 */
import { REPO } from "../tests/helpers.ts";
import { removeTrees } from "../src/storage/remove.ts";

/** The two engines' command lines and the means to undo everything. */
export interface Sandbox {
  dir: string;
  /** argv of ptd, run from source exactly as bin/ptd runs it. */
  ptd: string[];
  /** argv of podman with its storage in the sandbox. */
  podman: string[];
  /** argv of podman with its storage in `root` instead. */
  podmanAt(root: string): string[];
  /** Removes every container of both engines. */
  removeContainers(): Promise<void>;
  /** Removes every container, stops Podman's pause process, deletes `dir`. */
  cleanup(): Promise<void>;
}

/** A host whose cgroup v2 is only mounted beside v1 (runc, not crun). */
export function hybridCgroups(): boolean {
  try {
    Deno.statSync("/sys/fs/cgroup/unified");
    return true;
  } catch {
    return false;
  }
}

/** Runs argv; returns stdout, throwing with stderr on failure. */
export async function sh(argv: string[]): Promise<string> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`${argv.join(" ")}: ${dec.decode(out.stderr).trim()}`);
  }
  return dec.decode(out.stdout);
}

/**
 * Makes the sandbox in the fresh directory `dir` and points this process's
 * environment (inherited by hyperfine and every engine command) at it.
 * `registry` is the host:port both engines may reach over plain http.
 */
export async function makeSandbox(
  dir: string,
  registry: string,
): Promise<Sandbox> {
  const cfg = `${dir}/config/containers`;
  await Deno.mkdir(cfg, { recursive: true });
  await Deno.mkdir(`${dir}/run`, { mode: 0o700 });
  await Deno.writeTextFile(
    `${cfg}/registries.conf`,
    `[[registry]]\nlocation = "${registry}"\ninsecure = true\n`,
  );
  // No journald and no systemd user session on hosts like this one; runc
  // because crun cannot run rootless on hybrid cgroups.
  await Deno.writeTextFile(
    `${cfg}/containers.conf`,
    `[containers]\nlog_driver = "k8s-file"\n[engine]\n` +
      `cgroup_manager = "cgroupfs"\nevents_logger = "file"\n` +
      (hybridCgroups() ? `runtime = "runc"\n` : ""),
  );
  // Podman 4.3 reads registries.conf from $HOME, not XDG_CONFIG_HOME: name
  // every file outright (ptd honours CONTAINERS_REGISTRIES_CONF too).
  const env = {
    CONTAINERS_REGISTRIES_CONF: `${cfg}/registries.conf`,
    CONTAINERS_CONF: `${cfg}/containers.conf`,
    XDG_CONFIG_HOME: `${dir}/config`,
    XDG_RUNTIME_DIR: `${dir}/run`,
    PTD_ROOT: `${dir}/ptd/data`,
    PTD_RUNROOT: `${dir}/ptd/run`,
    NO_COLOR: "1",
  };
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  const ptd = [`${REPO}/bin/ptd`];
  // Rootless Podman 4.3 ignores graphroot from CONTAINERS_STORAGE_CONF (it
  // falls back to ~/.local/share/containers): only flags keep it out of the
  // user's own storage. Overlay, as ptd uses.
  const podmanAt = (root: string) => [
    "podman",
    "--root",
    root,
    "--runroot",
    `${root}-run`,
    "--tmpdir",
    `${dir}/run/libpod/tmp`,
    "--storage-driver",
    "overlay",
  ];
  const podman = podmanAt(`${dir}/podman/graph`);
  const info = await sh([
    ...podman,
    "info",
    "--format",
    "{{.Store.GraphRoot}}",
  ]);
  if (!info.trim().startsWith(dir)) {
    throw new Error(`podman would use ${info.trim()}, not the bench's storage`);
  }
  const removeContainers = async () => {
    const ids = (await sh([...ptd, "ps", "-aq"])).trim();
    if (ids) await sh([...ptd, "rm", "-f", ...ids.split(/\s+/)]);
    await sh([...podman, "rm", "-af", "-t", "0"]);
  };
  return {
    dir,
    ptd,
    podman,
    podmanAt,
    removeContainers,
    async cleanup() {
      await removeContainers().catch((e: Error) => console.error(e.message));
      // Podman's pause process keeps its user namespace (and mounts) alive.
      try {
        const pid = Number(
          await Deno.readTextFile(`${dir}/run/libpod/tmp/pause.pid`),
        );
        if (pid > 1) Deno.kill(pid, "SIGKILL");
      } catch { /* never started */ }
      for (const k of Object.keys(env)) Deno.env.delete(k);
      await removeTrees([dir]);
    },
  };
}
