import { repoPath } from "../runtime/lazy.ts";

/**
 * The path a systemd unit runs ptd by: the binary itself when compiled,
 * else the repository's bin/ptd (Deno.execPath() is deno, which would need
 * main.ts and its flags).
 */
export function ptdExecutable(): string {
  if (Deno.build.standalone) return Deno.execPath();
  return repoPath("bin/ptd");
}
