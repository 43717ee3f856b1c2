/**
 * Removing trees that hold files of the container's ids. Rootless, those
 * files belong to subordinate uids the user cannot touch from the host, so
 * removal falls back to a helper run as root of a user namespace.
 */
import { lazy } from "../runtime/lazy.ts";

/** The hidden subcommand that removes paths from inside a user namespace. */
export const REMOVE_COMMAND = "storage-rm";

function removeHere(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Entry of `ptd storage-rm PATH...` (run inside the user namespace). */
export function removeMain(paths: string[]): number {
  for (const p of paths) removeHere(p);
  return 0;
}

/** Removes `paths` recursively; missing ones are fine. */
export async function removeTrees(paths: string[]): Promise<void> {
  const left: string[] = [];
  for (const p of paths) {
    try {
      removeHere(p);
    } catch (e) {
      if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
      left.push(p);
    }
  }
  if (left.length === 0 || Deno.uid() === 0) return;
  // Loaded only then: every store imports this module, and the user
  // namespace code (clone, the id maps) is most of what ps would load.
  const { runInUserNamespace } = await lazy<
    typeof import("../runtime/userns.ts")
  >("src/runtime/userns.ts");
  const code = await runInUserNamespace([REMOVE_COMMAND, ...left]);
  if (code !== 0) throw new Error(`cannot remove ${left.join(", ")}`);
}
