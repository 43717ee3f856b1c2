/**
 * Commander made to read command lines as Podman's cobra does. Bool flags
 * (`--tls-verify [=bool]`) take a value only inline, never the next word.
 * Mistakes are said in cobra's words, which scripts (and their authors)
 * know: "unknown flag: --x", "accepts 2 arg(s), received 1", "requires at
 * least 1 arg(s), only received 0", and a few commands' own lines for a
 * missing name; the exit code stays 125, only the text changes.
 */
import type { Command } from "commander";
import { inlineBoolFlags } from "./spec.ts";

/** Podman's own line for a command given no name at all, by command path. */
const NO_NAME: Record<string, string> = {
  "exec": "exec requires the name or ID of a container or the --latest flag",
  "container exec":
    "exec requires the name or ID of a container or the --latest flag",
  "inspect": "no names or ids specified",
  "container inspect": "no names or ids specified",
  "image inspect": "no names or ids specified",
  "logs": "specify at least one container name or ID to log",
  "container logs": "specify at least one container name or ID to log",
  "top": "you must provide the name or id of a running container",
  "container top": "you must provide the name or id of a running container",
  "save": "need at least 1 argument",
  "image save": "need at least 1 argument",
};

/** Commands that name --latest in their line for a missing name. */
const LATEST = new Set([
  "attach",
  "container attach",
  "diff",
  "container diff",
  "wait",
  "container wait",
]);

/** "ptd container ls" for `cmd`: its names from the root down. */
function commandPath(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names;
}

/** cobra's argument-count error for what `cmd` declares and received. */
function argCountError(cmd: Command): string {
  const path = commandPath(cmd);
  const sub = path.slice(1).join(" ");
  const got = cmd.args.length;
  if (got === 0 && NO_NAME[sub]) return NO_NAME[sub];
  if (got === 0 && LATEST.has(sub)) {
    return `"${path.join(" ")}" requires a name, id, or the "--latest" flag`;
  }
  const declared = cmd.registeredArguments;
  const variadic = declared.at(-1)?.variadic ?? false;
  const min = declared.filter((a) => a.required).length;
  const max = variadic ? Infinity : declared.length;
  if (max === 0) return `\`${path.join(" ")}\` takes no arguments`;
  if (min === max) return `accepts ${min} arg(s), received ${got}`;
  if (max === Infinity) {
    return `requires at least ${min} arg(s), only received ${got}`;
  }
  if (min === 0) return `accepts at most ${max} arg(s), received ${got}`;
  return `accepts between ${min} and ${max} arg(s), received ${got}`;
}

/** The token commander quoted in its message ('--bogus'). */
const quoted = (message: string) => /'([^']*)'/.exec(message)?.[1] ?? "";

/** cobra's line for an unknown flag as the user typed it. */
function unknownFlag(flag: string): string {
  if (flag.startsWith("--")) return `unknown flag: ${flag.split("=")[0]}`;
  return `unknown shorthand flag: '${flag[1]}' in ${flag}`;
}

/** cobra's line for a flag that ends the line without its value. */
function flagNeedsValue(cmd: Command, message: string): string {
  const flags = /option '([^']*)'/.exec(message)?.[1] ?? "";
  const short = /(?:^|[ ,])-(\w)\b/.exec(flags)?.[1];
  const long = /--[\w-]+/.exec(flags)?.[0];
  let root = cmd;
  while (root.parent) root = root.parent;
  const last = (root as unknown as { rawArgs: string[] }).rawArgs?.at(-1);
  return short && (last === `-${short}` || !long)
    ? `flag needs an argument: '${short}' in -${short}`
    : `flag needs an argument: ${long}`;
}

/** Podman's text for one commander error raised by `cmd`. */
function podmanText(cmd: Command, message: string, code?: string): string {
  switch (code) {
    case "commander.unknownOption":
      return unknownFlag(quoted(message));
    case "commander.optionMissingArgument":
      return flagNeedsValue(cmd, message);
    case "commander.missingArgument":
    case "commander.excessArguments":
      return argCountError(cmd);
    case "commander.unknownCommand":
      return `unrecognized command \`${
        [...commandPath(cmd), quoted(message)].join(" ")
      }\``;
    default:
      return message;
  }
}

/**
 * Rewires `root` and every command below it to read bool flags and say
 * command-line mistakes as Podman does; a command group given no command
 * says so in one line (Podman's "missing command") instead of printing its
 * help as an error.
 */
export function podmanParsing(root: Command): void {
  const visit = (cmd: Command) => {
    const parseOptions = cmd.parseOptions.bind(cmd);
    const flags = cmd.options.map((o) => o.flags);
    const passThrough =
      (cmd as unknown as { _passThroughOptions: boolean })._passThroughOptions;
    cmd.parseOptions = (argv) =>
      parseOptions(inlineBoolFlags(flags, passThrough, argv));
    const error = cmd.error.bind(cmd);
    cmd.error = (message, options) =>
      error(podmanText(cmd, message, options?.code), options);
    if (cmd.parent && cmd.commands.length > 0) {
      const help = cmd.help.bind(cmd);
      cmd.help = ((context?: { error: boolean }) =>
        context?.error
          ? cmd.error(
            `missing command '${commandPath(cmd).join(" ")} COMMAND'`,
            { code: "ptd.missingCommand" },
          )
          : help(context)) as Command["help"];
    }
    cmd.commands.forEach(visit);
  };
  visit(root);
}
