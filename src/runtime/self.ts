/**
 * How ptd starts itself again (monitor, init, helpers in a user namespace).
 * Compiled, Deno.execPath() is ptd; from source it is deno, which needs
 * `run -A <main.ts>` and the same config to find the same modules.
 */
import { repoPath } from "./lazy.ts";

/** The path and leading arguments that run ptd's main.ts. */
export function selfCommand(): { path: string; args: string[] } {
  if (Deno.build.standalone) return { path: Deno.execPath(), args: [] };
  const main = repoPath("main.ts");
  const config = repoPath("deno.json");
  return {
    path: Deno.execPath(),
    args: ["run", "-A", "--quiet", "--no-lock", `--config=${config}`, main],
  };
}
