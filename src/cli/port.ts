/** `ptd port NAME [PORT[/PROTO]]`: the container's published ports. */
import { notFound } from "../runtime/errors.ts";
import { Command } from "commander";
import { portsOf } from "../container/network.ts";
import { ContainerStore } from "../container/store.ts";
import { portLines, portsFor } from "../network/ports.ts";
import { storePaths } from "../storage/paths.ts";

/** The `port` command. */
export function portCommand(): Command {
  return new Command("port")
    .description("List a container's published ports")
    .argument("<container>", "name or id")
    .argument("[port]", "only this container port, e.g. 80/tcp")
    .action((ref: string, port?: string) => {
      const c = new ContainerStore(storePaths()).find(ref);
      const ports = portsOf(c);
      const lines = port === undefined
        ? portLines(ports)
        : portsFor(ports, port).map((l) => l.split(" -> ")[1]);
      if (port !== undefined && lines.length === 0) {
        throw notFound(`no public port '${port}' published for ${c.name}`);
      }
      for (const l of lines) console.log(l);
    });
}
