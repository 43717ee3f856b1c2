/** `ptd port NAME [PORT[/PROTO]]`: the container's published ports. */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import { containerPorts } from "../engine/lifecycle.ts";

/** The `port` command. */
export function portCommand(): Command {
  return new Command("port")
    .description("List a container's published ports")
    .argument("<container>", "name or id")
    .argument("[port]", "only this container port, e.g. 80/tcp")
    .action((ref: string, port?: string) => {
      for (const l of containerPorts(userEngine(), ref, port)) console.log(l);
    });
}
