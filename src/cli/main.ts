/**
 * The CLI: speaks Docker/Podman. Parse errors and engine errors are one line
 * on stderr; a PtdError ends with its exit code, anything else with 125; a
 * container's own exit code is passed through; a closed stdout ends the
 * command by SIGPIPE (runtime/closed_output.ts). An
 * ordinary line of a hot command (run, ps, rm, inspect, ...) runs without
 * loading commander (spec.ts says why); everything else goes through the
 * commander program.
 */
import { lazy } from "../runtime/lazy.ts";
import { EXIT_ENGINE, PtdError } from "../runtime/errors.ts";
import { applyGlobals, splitGlobals } from "./globals.ts";
import { type CommandSpec, quickParse } from "./spec.ts";

const LIFECYCLE = "src/cli/containers.ts";
/**
 * The module that declares each hot command (as `specs`): a command loads
 * only its own, e.g. `ps` none of the code that creates containers.
 */
export const QUICK: Record<string, string> = {
  run: "src/cli/run.ts",
  create: "src/cli/run.ts",
  ps: "src/cli/listing.ts",
  inspect: "src/cli/inspect.ts",
  ...Object.fromEntries(
    [
      "start",
      "stop",
      "kill",
      "restart",
      "rm",
      "logs",
      "wait",
      "rename",
      "top",
      "exec",
      "attach",
      "cp",
      "pause",
      "unpause",
    ].map((name) => [name, LIFECYCLE]),
  ),
};

/** The spec of a hot command, or undefined for the others. */
export async function quickSpec(
  name: string | undefined,
): Promise<CommandSpec | undefined> {
  if (name === undefined || !Object.hasOwn(QUICK, name)) return undefined;
  const { specs } = await lazy<{ specs: CommandSpec[] }>(QUICK[name]);
  return specs.find((s) => s.name === name);
}

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^error: /, "").split("\n")[0];
}

async function viaCommander(args: string[]): Promise<number> {
  const { CommanderError, program } = await lazy<
    typeof import("./program.ts")
  >("src/cli/program.ts");
  const result = { code: 0 };
  try {
    await program(result).parseAsync(args, { from: "user" });
    return result.code;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode === 0) return 0;
    // cobra.ts's text, with the line cobra puts under some ("See ...").
    console.error(`Error: ${e.message.replace(/^error: /, "")}`);
    return EXIT_ENGINE;
  }
}

/** Runs the CLI with `args`; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    const globals = splitGlobals(args);
    if (!globals) return await viaCommander(args);
    const { flags, rest } = globals;
    const spec = await quickSpec(rest[0]);
    const parsed = spec && quickParse(spec, rest.slice(1));
    if (!parsed) return await viaCommander(args);
    await applyGlobals(flags);
    return (await spec.action(...parsed)) ?? 0;
  } catch (e) {
    const { endIfOutputClosed } = await lazy<
      typeof import("../runtime/closed_output.ts")
    >("src/runtime/closed_output.ts");
    endIfOutputClosed(e);
    console.error(`Error: ${oneLine(e)}`);
    return e instanceof PtdError ? e.exitCode : EXIT_ENGINE;
  }
}
