/**
 * Commands as data. The hot commands (run, ps, rm, inspect, ...) are
 * declared here once, as commander would be told them; commander builds its
 * tree from them (program.ts) for help, errors and every other command, and
 * `quickParse` reads the same declarations for an ordinary command line
 * without loading commander at all. Commander is an npm package: loading it
 * sets up Deno's Node compatibility layer, ~35 ms of every start, which is
 * most of a `ptd ps`.
 *
 * quickParse is deliberately partial. It accepts only what it is sure
 * commander would read the same way, and returns undefined for anything else
 * (help, unknown or malformed options, missing or excess arguments), so that
 * commander handles it and words the error. tests/unit/cli_spec_test.ts holds
 * both parsers to the same results.
 */

/** One option, in commander's terms: flags like "-e, --env <env>". */
export interface OptionSpec {
  flags: string;
  description: string;
  /** commander's parseArg: value and previous value to the new value. */
  parse?: (value: string, previous: never) => unknown;
  default?: unknown;
}

/** What an action gets: its arguments in order, then the options. */
// deno-lint-ignore no-explicit-any
export type Action = (...args: any[]) => Promise<number | void> | void;

/** A command: name, options, arguments ("<a>", "[b]", "<c...>"), action. */
export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** Argument syntax and description, as commander's argument(). */
  args: [string, string?][];
  /** Options after the first argument belong to it (run IMAGE CMD -x). */
  passThrough?: boolean;
  /**
   * `-l, --latest` may stand for the container argument: with it every
   * argument is optional (the action reads them shifted), without it they
   * are required as declared.
   */
  latest?: boolean;
  /** Flags of the help option when -h means something else. */
  help?: string;
  /** Resolves to the exit code (nothing: 0). */
  action: Action;
}

/** An option's flags taken apart the way commander does. */
export interface ParsedFlags {
  short?: string;
  long?: string;
  /** The key in the options object: camelCase, without "no-". */
  key: string;
  value: "none" | "required" | "optional";
  negate: boolean;
}

const camel = (s: string) => s.replace(/-(\w)/g, (_, c) => c.toUpperCase());

/** Splits "-e, --env <env>" into its parts. */
export function parseFlags(flags: string): ParsedFlags {
  const short = /(?:^|[ ,|])(-\w)(?=$|[ ,|])/.exec(flags)?.[1];
  const long = /--[\w-]+/.exec(flags)?.[0];
  const value = /<[^>]+>/.test(flags)
    ? "required"
    : /\[[^\]]+\]/.test(flags)
    ? "optional"
    : "none";
  const negate = long?.startsWith("--no-") ?? false;
  const name = long ? long.slice(negate ? 5 : 2) : short!.slice(1);
  return { short, long, key: camel(name), value, negate };
}

interface Known {
  spec: OptionSpec;
  flags: ParsedFlags;
}

/** The options object before any flag: defaults, negatable ones true. */
function defaults(known: Known[]): Record<string, unknown> {
  const opts: Record<string, unknown> = {};
  for (const { spec, flags } of known) {
    if (flags.negate) {
      // "--no-x" defaults x to true unless "--x" is declared too.
      const positive = known.some((k) =>
        !k.flags.negate && k.flags.key === flags.key
      );
      if (!positive && !(flags.key in opts)) opts[flags.key] = true;
    } else if (spec.default !== undefined) {
      opts[flags.key] = Array.isArray(spec.default)
        ? [...spec.default]
        : spec.default;
    }
  }
  return opts;
}

/** `args` with every argument optional: what --latest leaves out. */
export function optionalArgs(args: [string, string?][]): [string, string?][] {
  return args.map(([syntax, d]) => [`[${syntax.slice(1, -1)}]`, d]);
}

/** Binds positionals to the declared arguments; undefined when they do not fit. */
export function bindArgs(
  declared: [string, string?][],
  positionals: string[],
): unknown[] | undefined {
  const out: unknown[] = [];
  let i = 0;
  for (const [syntax] of declared) {
    const required = syntax.startsWith("<");
    if (syntax.endsWith("...>") || syntax.endsWith("...]")) {
      if (required && i >= positionals.length) return undefined;
      out.push(positionals.slice(i));
      i = positionals.length;
    } else if (i < positionals.length) {
      out.push(positionals[i++]);
    } else if (required) {
      return undefined;
    } else {
      out.push(undefined);
    }
  }
  return i === positionals.length ? out : undefined;
}

/**
 * A copy of `argv` with Podman's bool flags (declared `-a, --archive [=bool]`) made
 * explicit: such a flag takes a value only inline (`--archive=false`), so a
 * bare one becomes `--archive=true` rather than swallowing the next
 * argument as its value. A short flag's inline value (`-a=false`, as
 * pflag reads it) moves to the long one. Stops at `--` and, for a
 * pass-through command, at the first positional (the rest belongs to the
 * container's command).
 */
export function inlineBools(cmd: CommandSpec, argv: string[]): string[] {
  return inlineBoolFlags(
    cmd.options.map((o) => o.flags),
    !!cmd.passThrough,
    argv,
  );
}

/** `inlineBools` for options given by their flags alone. */
export function inlineBoolFlags(
  flags: string[],
  passThrough: boolean,
  argv: string[],
): string[] {
  const bools = new Map<string, string>();
  const shorts = new Map<string, string>();
  for (const text of flags) {
    const f = parseFlags(text);
    if (f.short && f.long) shorts.set(f.short, f.long);
    if (!text.includes("[=")) continue;
    for (const flag of [f.short, f.long]) {
      if (flag) bools.set(flag, f.long!);
    }
  }
  const end = argv.findIndex((a) =>
    a === "--" || (passThrough && !a.startsWith("-"))
  );
  return argv.map((a, i) => {
    if (end >= 0 && i >= end) return a;
    if (bools.has(a)) return `${bools.get(a)}=true`;
    const long = shorts.get(a.slice(0, 2));
    return long && a[2] === "=" ? `${long}${a.slice(2)}` : a;
  });
}

/**
 * Reads `argv` (what follows the command's name) as commander would, or
 * returns undefined to leave the line to commander. A parse function that
 * throws leaves it to commander too, which reports the error.
 */
export function quickParse(
  cmd: CommandSpec,
  argv: string[],
): unknown[] | undefined {
  const known = cmd.options.map((spec) => ({
    spec,
    flags: parseFlags(spec.flags),
  }));
  const find = (flag: string) =>
    known.find((k) => k.flags.long === flag || k.flags.short === flag);
  const opts = defaults(known);
  const set = (k: Known, value: string | null) => {
    let v: unknown = value;
    if (value !== null && k.spec.parse) {
      v = k.spec.parse(value, opts[k.flags.key] as never);
    }
    opts[k.flags.key] = v ?? (k.flags.negate ? false : true);
  };
  const isOption = (a: string) => a.length > 1 && a[0] === "-";
  const positionals: string[] = [];
  const args = inlineBools(cmd, argv);
  try {
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "--") {
        positionals.push(...args);
        break;
      }
      if (!isOption(a)) {
        positionals.push(a);
        if (cmd.passThrough) {
          positionals.push(...args);
          break;
        }
        continue;
      }
      if (a.startsWith("--")) {
        const eq = a.indexOf("=");
        const k = find(eq < 0 ? a : a.slice(0, eq));
        if (!k) return undefined;
        if (eq >= 0) {
          if (k.flags.value === "none") return undefined;
          set(k, a.slice(eq + 1));
        } else if (k.flags.value === "required") {
          if (args.length === 0) return undefined;
          set(k, args.shift()!);
        } else if (k.flags.value === "optional") {
          set(k, args.length > 0 && !isOption(args[0]) ? args.shift()! : null);
        } else {
          set(k, null);
        }
        continue;
      }
      // -abc: -a, then -bc; or -a with the value "bc".
      const k = find(a.slice(0, 2));
      if (!k) return undefined;
      if (k.flags.value === "none") {
        set(k, null);
        if (a.length > 2) args.unshift(`-${a.slice(2)}`);
      } else if (a.length > 2) {
        set(k, a.slice(2));
      } else if (k.flags.value === "required") {
        if (args.length === 0) return undefined;
        set(k, args.shift()!);
      } else {
        set(k, args.length > 0 && !isOption(args[0]) ? args.shift()! : null);
      }
    }
  } catch {
    return undefined;
  }
  const declared = cmd.latest && opts.latest
    ? optionalArgs(cmd.args)
    : cmd.args;
  const bound = bindArgs(declared, positionals);
  return bound && [...bound, opts];
}
