/**
 * A closed stdout ends a command quietly, as in Podman. Go kills a program
 * with SIGPIPE when its write to fd 1 or 2 meets a pipe nobody reads, so
 * `podman save IMAGE | head -c 10` and `podman logs C | head` end with
 * status 141 in a shell and print nothing. Deno ignores SIGPIPE and throws
 * BrokenPipe instead; the CLI's top level hands every error here first.
 */
import { SIGPIPE } from "../../ffi/constants.ts";
import { readerGone } from "../../ffi/fd.ts";
import { dieBy } from "../../ffi/signal.ts";

/** Whether `e`, or an error it was caused by, is EPIPE. */
function brokenPipe(e: unknown): boolean {
  for (let x = e; x instanceof Error; x = x.cause) {
    if (x instanceof Deno.errors.BrokenPipe) return true;
  }
  return false;
}

/**
 * Dies of SIGPIPE, as Podman does, when `e` comes from a write to our own
 * stdout or stderr after its reader went away; returns otherwise (EPIPE on
 * another pipe, a container's stdin say, is an ordinary error).
 */
export function endIfOutputClosed(e: unknown): void {
  if (brokenPipe(e) && (readerGone(1) || readerGone(2))) dieBy(SIGPIPE);
}
