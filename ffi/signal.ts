/**
 * Ending the process by a signal. Deno's runtime ignores SIGPIPE (Rust sets
 * it to SIG_IGN at start-up), so a process that wants to die of it, as a C
 * or Go program does on a write to a closed pipe, must first restore the
 * default action.
 */
import { libc } from "./libc.ts";

/**
 * Ends the process by `sig` with its default action, so the parent sees a
 * death by that signal (a shell: 128 + sig), not an exit code.
 */
export function dieBy(sig: number): never {
  const c = libc();
  c.signal_default(sig);
  c.kill(Deno.pid, sig);
  // The signal goes to whichever thread does not block it; if that is not
  // this one it lands a moment later. An exit is the same status to a shell.
  Deno.exit(128 + sig);
}
