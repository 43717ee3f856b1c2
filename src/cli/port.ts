/** `ptd port NAME [PORT[/PROTO]]` and `port -a`: published ports. */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import { containerPorts } from "../engine/lifecycle.ts";
import { containersWithState } from "../engine/listing.ts";
import { invalid } from "../runtime/errors.ts";
import { latestContainer } from "../engine/selection.ts";

/** The `port` command. */
export function portCommand(): Command {
  return new Command("port")
    .description("List a container's published ports")
    .argument("[container]", "name or id")
    .argument("[port]", "only this container port, e.g. 80/tcp")
    .option("-a, --all", "display port information for all containers")
    .option("-l, --latest", "act on the latest container ptd is aware of")
    .action(async (
      ref?: string,
      port?: string,
      f: { all?: boolean; latest?: boolean } = {},
    ) => {
      const e = userEngine();
      if (f.all && f.latest) {
        throw invalid("--all and --latest cannot be used together");
      }
      if (f.latest) {
        // The one argument is the port (`port -l 80`).
        [ref, port] = [(await latestContainer(e)).id, ref];
      }
      if (f.all) {
        if (ref !== undefined) {
          throw invalid("no arguments are needed with --all");
        }
        // Podman: each running container's lines, after its short id.
        for (const { c, state } of await containersWithState(e)) {
          if (state.status !== "running") continue;
          for (const l of containerPorts(e, c.id)) {
            console.log(`${c.id.slice(0, 12)}\t${l}`);
          }
        }
        return;
      }
      if (ref === undefined) {
        throw invalid("you must supply a running container name or id");
      }
      for (const l of containerPorts(e, ref, port)) console.log(l);
    });
}
