/**
 * Commander made to read command lines as Podman's cobra does. Bool flags
 * (`--tls-verify [=bool]`) take a value only inline, never the next word.
 * Mistakes are said in cobra's words, which scripts (and their authors)
 * know: "unknown flag: --x", "accepts 2 arg(s), received 1", "requires at
 * least 1 arg(s), only received 0", and a few commands' own lines for a
 * missing name; the exit code stays 125, only the text changes.
 */
import type { Command } from "commander";
import { isKind } from "../runtime/errors.ts";
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

/** Podman's own line for too many arguments, by command path. */
const TOO_MANY: Record<string, (path: string) => string> = {
  "attach": (path) => `\`${path}\` accepts at most one argument`,
  "container attach": (path) => `\`${path}\` accepts at most one argument`,
  "port": () => "`port` accepts at most 2 arguments",
  "container port": () => "`port` accepts at most 2 arguments",
};

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
  if (got > 0 && TOO_MANY[sub]) return TOO_MANY[sub](path.join(" "));
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

/** cobra's edit distance of two command names (insert, delete, swap). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap = row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, swap);
    }
    row = next;
  }
  return row[b.length];
}

/**
 * cobra's "Did you mean this?" lines for an unknown command `typed`; only
 * the root suggests (Podman's command groups say no more than the name).
 */
function suggestions(cmd: Command, typed: string): string {
  if (cmd.parent) return "";
  const near = cmd.commands
    .filter((c) => !(c as unknown as { _hidden: boolean })._hidden)
    .map((c) => c.name())
    .filter((n) =>
      distance(typed.toLowerCase(), n.toLowerCase()) <= 2 ||
      n.toLowerCase().startsWith(typed.toLowerCase())
    );
  return near.length === 0
    ? ""
    : `\n\nDid you mean this?\n${near.map((n) => `\t${n}\n`).join("")}`;
}

/**
 * Podman's text for one commander error raised by `cmd`, with the line
 * cobra adds under a flag's error ("See 'podman ps --help'") or an
 * unknown command's.
 */
function podmanText(cmd: Command, message: string, code?: string): string {
  const path = commandPath(cmd).join(" ");
  const see = `\nSee '${path} --help'`;
  switch (code) {
    case "commander.unknownOption":
      return unknownFlag(quoted(message)) + see;
    case "commander.optionMissingArgument":
      return flagNeedsValue(cmd, message) + see;
    case "ptd.invalidFlagValue":
      return message + see;
    case "commander.missingArgument":
    case "commander.excessArguments":
      return argCountError(cmd);
    case "commander.unknownCommand": {
      const typed = quoted(message);
      return `unrecognized command \`${path} ${typed}\`` +
        `${suggestions(cmd, typed)}\nTry '${path} --help' for more information`;
    }
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
    // A flag's value refused by its parser: cobra's flag error.
    cmd.parseOptions = (argv) => {
      try {
        return parseOptions(inlineBoolFlags(flags, passThrough, argv));
      } catch (e) {
        if (!isKind(e, "invalid")) throw e;
        cmd.error(e.message, { code: "ptd.invalidFlagValue" });
      }
    };
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
