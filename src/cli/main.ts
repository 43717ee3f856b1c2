/**
 * The CLI: speaks Docker/Podman. Parse errors and engine errors are one line
 * on stderr and exit 125; a container's own exit code is passed through. An
 * ordinary line of a hot command (run, ps, rm, inspect, ...) runs without
 * loading commander (spec.ts says why); everything else goes through the
 * commander program.
 */
import { EXIT_ENGINE, ExitError } from "../runtime/spec.ts";
import { containerSpecs } from "./containers.ts";
import { createCommandSpec, runSpec } from "./run.ts";
import { quickParse } from "./spec.ts";

const QUICK = [runSpec, createCommandSpec, ...containerSpecs];

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^error: /, "").split("\n")[0];
}

async function viaCommander(args: string[]): Promise<number> {
  const { CommanderError } = await import("commander");
  const { program } = await import("./program.ts");
  const result = { code: 0 };
  try {
    await program(result).parseAsync(args, { from: "user" });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return 0;
    throw e;
  }
}

/** Runs the CLI with `args`; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    const spec = QUICK.find((s) => s.name === args[0]);
    const parsed = spec && quickParse(spec, args.slice(1));
    if (!parsed) return await viaCommander(args);
    return (await spec.action(...parsed)) ?? 0;
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    return e instanceof ExitError ? e.code : EXIT_ENGINE;
  }
}
