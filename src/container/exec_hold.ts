/**
 * A detached `exec -it` (its detach keys typed): the command goes on, as
 * under Podman, where conmon holds the exec session's terminal. Here a
 * small process in a session of its own takes the pty master over and
 * reads it until the command's side closes, so that the kernel does not
 * hang the terminal up (SIGHUP to the command) as the CLI exits.
 */
import { newSession, setCloexec, setInheritable } from "../../ffi/fd.ts";
import { readFd } from "../../ffi/pty.ts";
import { spawn } from "../../ffi/spawn.ts";
import { selfCommand } from "../runtime/self.ts";

/** The hidden subcommand that holds a detached exec's terminal. */
export const EXEC_HOLD_COMMAND = "exec-hold";

/** Hands the pty `master` to a holder process; the caller may then exit. */
export function holdTerminal(master: number): void {
  const self = selfCommand();
  setInheritable(master);
  try {
    spawn([self.path, ...self.args, EXEC_HOLD_COMMAND, String(master)]);
  } finally {
    setCloexec(master);
  }
}

/** Entry of `ptd exec-hold FD`: reads the master until the command is gone. */
export async function holdMain(args: string[]): Promise<number> {
  newSession();
  const master = Number(args[0]);
  const buf = new Uint8Array(65536);
  // Its output goes nowhere, as a detached exec session's does.
  while (await readFd(master, buf) !== null) continue;
  return 0;
}
