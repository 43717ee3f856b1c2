/**
 * The commander program: every command, for help, errors and all the
 * commands that are not parsed by quickParse. Loaded only when needed.
 */
import { Command } from "commander";
export { CommanderError } from "commander";
import { importCommand, loadCommand, saveCommand } from "./archive.ts";
import { diffCommand, exportCommand } from "./changes.ts";
import { containerPruneSpec, specs as lifecycle } from "./containers.ts";
import { doctorCommand } from "./doctor.ts";
import { imageCommands } from "./images.ts";
import { portCommand } from "./port.ts";
import {
  loginCommand,
  logoutCommand,
  pullCommand,
  pushCommand,
  searchCommand,
} from "./pull.ts";
import { specs as listing } from "./listing.ts";
import { specs as creating } from "./run.ts";
import type { CommandSpec } from "./spec.ts";
import { volumeCommand } from "./volume.ts";

/** ptd's version, as `ptd --version` prints it. */
export const VERSION = "0.1.0";

/** A commander command built from a spec; its exit code goes to `setCode`. */
export function toCommand(
  spec: CommandSpec,
  setCode: (code: number) => void,
): Command {
  const cmd = new Command(spec.name).description(spec.description);
  if (spec.help) cmd.helpOption(spec.help, "display help for command");
  for (const o of spec.options) {
    if (o.parse) {
      const parse = o.parse as (value: string, previous: unknown) => unknown;
      cmd.option(o.flags, o.description, parse, o.default);
    } else cmd.option(o.flags, o.description, o.default as string);
  }
  for (const [syntax, description] of spec.args) {
    cmd.argument(syntax, description);
  }
  if (spec.passThrough) cmd.passThroughOptions();
  // commander passes the Command itself last; actions take args and options.
  return cmd.action(async (...args: unknown[]) =>
    setCode((await spec.action(...args.slice(0, -1))) ?? 0)
  );
}

/** Builds the command tree; each action stores its exit code in `result`. */
export function program(result: { code: number }): Command {
  const p = new Command("ptd")
    .description("Daemonless, rootless containers")
    .version(`ptd version ${VERSION}`, "-v, --version")
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  const set = (code: number) => (result.code = code);
  const container = new Command("container")
    .description("Manage containers")
    .addCommand(toCommand(containerPruneSpec, set));
  for (
    const cmd of [
      ...[...creating, ...lifecycle, ...listing].map((s) => toCommand(s, set)),
      doctorCommand(set),
      container,
      ...imageCommands(set),
      pullCommand(set),
      pushCommand(set),
      loginCommand(set),
      logoutCommand(set),
      searchCommand(),
      saveCommand(),
      loadCommand(),
      importCommand(),
      diffCommand(),
      exportCommand(),
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
