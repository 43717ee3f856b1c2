/**
 * Podman, the reference peer, run inside a test's sandbox: its storage, run
 * dir and pause process kept there, so tests compare without touching the
 * user's own Podman state.
 */
import type { Sandbox } from "./helpers.ts";

/** True when podman is installed. */
export function hasPodman(): boolean {
  try {
    return new Deno.Command("podman", { args: ["--version"] }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/** Podman with its storage, run dir and pause process kept in the sandbox. */
export function podman(
  sb: Sandbox,
  args: string[],
  env: Record<string, string> = {},
): Promise<Deno.CommandOutput> {
  const run = `${sb.dir}/podman-run`;
  Deno.mkdirSync(run, { recursive: true, mode: 0o700 });
  return new Deno.Command("podman", {
    args: [
      "--root",
      `${sb.dir}/podman-root`,
      "--runroot",
      `${run}/storage`,
      "--storage-driver",
      "vfs",
      "--runtime",
      "runc",
      ...args,
    ],
    env: { XDG_RUNTIME_DIR: run, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/** Ends the sandbox's Podman pause process, if one was started. */
export function stopPodmanPause(sb: Sandbox) {
  try {
    const pid = Number(
      Deno.readTextFileSync(`${sb.dir}/podman-run/libpod/tmp/pause.pid`),
    );
    if (pid > 0) Deno.kill(pid, "SIGKILL");
  } catch { /* no pause process */ }
}
