/** `ptd update`: new resource limits for a container, running or not. */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import { updateContainer } from "../engine/update.ts";
import { LIMIT_OPTIONS, type LimitFlags, limitsOf } from "./limits.ts";

/** The `update` command. */
export function updateCommand(): Command {
  const cmd = new Command("update")
    .description("Update an existing container's resource limits")
    .argument("<container>", "name or id");
  for (const o of LIMIT_OPTIONS) cmd.option(o.flags, o.description);
  return cmd.action(async (ref: string, f: LimitFlags) => {
    console.log(
      await updateContainer(userEngine(), ref, await limitsOf(f) ?? {}),
    );
  });
}
