/**
 * The CLI: a commander program that speaks Docker/Podman. Parse errors and
 * engine errors are one line on stderr and exit 125; a container's own exit
 * code is passed through.
 */
import { Command, CommanderError } from "commander";
import { EXIT_ENGINE, ExitError } from "../runtime/spec.ts";
import { importCommand, loadCommand, saveCommand } from "./archive.ts";
import { doctorCommand } from "./doctor.ts";
import { portCommand } from "./port.ts";
import { runCommand } from "./run.ts";
import { volumeCommand } from "./volume.ts";
import { imageCommands } from "./images.ts";
import {
  loginCommand,
  logoutCommand,
  pullCommand,
  pushCommand,
} from "./pull.ts";
import { containerCommands } from "./containers.ts";

/** ptd's version, as `ptd --version` prints it. */
export const VERSION = "0.1.0";

/** Builds the command tree; each action stores its exit code in `result`. */
function program(result: { code: number }): Command {
  const p = new Command("ptd")
    .description("Daemonless, rootless containers")
    .version(`ptd version ${VERSION}`, "-v, --version")
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  const set = (code: number) => (result.code = code);
  for (
    const cmd of [
      runCommand(set),
      doctorCommand(set),
      ...containerCommands(set),
      ...imageCommands(set),
      pullCommand(set),
      pushCommand(set),
      loginCommand(set),
      logoutCommand(set),
      saveCommand(),
      loadCommand(),
      importCommand(),
      volumeCommand(),
      portCommand(),
    ]
  ) {
    // addCommand does not pass these on; every command must throw, not exit.
    p.addCommand(cmd.copyInheritedSettings(p));
    for (const sub of cmd.commands) sub.copyInheritedSettings(cmd);
  }
  return p;
}

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^error: /, "").split("\n")[0];
}

/** Runs the CLI with `args`; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const result = { code: 0 };
  try {
    await program(result).parseAsync(args, { from: "user" });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      console.error(`Error: ${oneLine(e)}`);
      return EXIT_ENGINE;
    }
    console.error(`Error: ${oneLine(e)}`);
    return e instanceof ExitError ? e.code : EXIT_ENGINE;
  }
}
