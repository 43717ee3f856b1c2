/**
 * Running the network helpers (slirp4netns, pasta) as children of the
 * container's parent, tied to its life: each is handed the read end of a
 * pipe whose write end only the parent holds, so when the parent dies, even
 * by SIGKILL, the helper sees EOF and goes too.
 */

/** A started helper and the pipe that keeps it alive. */
export interface Helper {
  child: Deno.ChildProcess;
  /** What it wrote on stderr so far (for error messages). */
  stderr(): string;
}

/** Spawns `cmd`; a missing program is a one-line error naming its package. */
export function spawnHelper(
  cmd: string,
  args: string[],
  pkg: string,
  opts: { cwd?: string } = {},
): Helper {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      cwd: opts.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd} not found: install the Debian package ${pkg}`);
    }
    throw e;
  }
  let err = "";
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) {
      err = (err + dec.decode(chunk, { stream: true })).slice(-4096);
    }
  })().catch(() => {});
  // Neither the helper nor our pipes may keep the parent's event loop alive.
  child.unref();
  return { child, stderr: () => err.trim().split("\n").at(-1) ?? "" };
}

/** Stops a helper: SIGTERM, then waits until it is gone. */
export async function stopHelper(h: Helper): Promise<void> {
  try {
    h.child.kill("SIGTERM");
  } catch { /* already gone */ }
  await h.child.status;
}
