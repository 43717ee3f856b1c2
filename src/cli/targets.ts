/** Which containers a command acts on, and how it reports each failure. */
import type { ContainerConfig } from "../container/config.ts";
import { ContainerStore } from "../container/store.ts";
import { storePaths } from "../storage/paths.ts";

/** The user's container store. */
export const containerStore = () => new ContainerStore(storePaths());

/**
 * Runs `fn` for each named container like Docker: a failure is reported
 * for that name and the others still go; the exit code is 125 if any failed.
 */
export async function eachContainer(
  refs: string[],
  fn: (s: ContainerStore, c: ContainerConfig, ref: string) => Promise<void>,
): Promise<number> {
  const s = containerStore();
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(s, s.find(ref), ref);
    } catch (e) {
      failed = true;
      console.error(`Error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failed ? 125 : 0;
}
