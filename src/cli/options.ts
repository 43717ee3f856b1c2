/**
 * What commands share: options that mean the same everywhere, repeatable
 * flags, key=value lists, env files.
 */
import { invalid } from "../runtime/errors.ts";
import type { OptionSpec } from "./spec.ts";

export { mergeEnv } from "../container/env.ts";

/** A commander collector for options that may be given many times. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "-e KEY=VAL" passes as is; "-e KEY" takes KEY from ptd's own environment. */
export function parseEnv(items: string[]): string[] {
  return items.flatMap((item) => {
    if (item.includes("=")) return [item];
    const v = Deno.env.get(item);
    return v === undefined ? [] : [`${item}=${v}`];
  });
}

/** Lines of an --env-file: KEY=VAL or KEY, blank lines and # comments skipped. */
export function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    throw invalid(`open ${path}: no such file or directory`);
  }
  const lines = text.split("\n").map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  return parseEnv(lines);
}

/** "k=v" items to a record (labels); a bare "k" gets "". */
export function parseLabels(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf("=");
    if (i < 0) out[item] = "";
    else out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/**
 * A commander parser for Podman's bool flags (`--flag [=bool]`): the
 * spellings Go's strconv.ParseBool takes, anything else refused in
 * Podman's words.
 */
export function boolArg(flag: string): (value: string) => boolean {
  return (value) => {
    if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) {
      return false;
    }
    throw invalid(
      `invalid argument ${JSON.stringify(value)} for "${flag}" flag: ` +
        `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
    );
  };
}

function numberArg(flag: string, signed: boolean) {
  return (value: string): number => {
    if (!(signed ? /^-?\d+$/ : /^\d+$/).test(value)) {
      throw invalid(
        `invalid argument ${JSON.stringify(value)} for "${flag}" flag: ` +
          `strconv.Parse${signed ? "Int" : "Uint"}: parsing ${
            JSON.stringify(value)
          }: invalid syntax`,
      );
    }
    return Number(value);
  };
}

/** A parser for a Podman uint flag (`-t, --time`), refused in its words. */
export function uintArg(flag: string): (value: string) => number {
  return numberArg(flag, false);
}

/** A parser for a Podman int flag (`--tail`), refused in its words. */
export function intArg(flag: string): (value: string) => number {
  return numberArg(flag, true);
}

/** An option that may be given many times; the values in order. */
export function repeatable(flags: string, description: string): OptionSpec {
  return { flags, description, parse: collect, default: [] };
}

/** The process options of `run`, `create` and `exec`. */
export const PROCESS_OPTIONS = {
  interactive: { flags: "-i, --interactive", description: "keep stdin open" },
  tty: { flags: "-t, --tty", description: "allocate a pseudo-TTY" },
  env: repeatable("-e, --env <env>", "set environment variables"),
  envFile: repeatable(
    "--env-file <file>",
    "read environment variables from a file",
  ),
  workdir: {
    flags: "-w, --workdir <dir>",
    description: "working directory inside the container",
  },
  user: { flags: "-u, --user <user>", description: "user[:group] to run as" },
} satisfies Record<string, OptionSpec>;
