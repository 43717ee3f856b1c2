/** `ps`: what the user's containers are, as Docker shows it. */
import { userEngine } from "../engine/engine.ts";
import { listContainers, parseContainerFilter } from "../engine/listing.ts";
import { printFormatted, table } from "./format.ts";
import { repeatable } from "./options.ts";
import type { CommandSpec } from "./spec.ts";

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  last?: string;
  latest?: boolean;
  trunc?: boolean;
  filter: string[];
  format?: string;
}

const psSpec: CommandSpec = {
  name: "ps",
  description: "List containers",
  options: [
    {
      flags: "-a, --all",
      description: "show all containers, not only running ones",
    },
    { flags: "-q, --quiet", description: "print only the ids" },
    {
      flags: "-n, --last <n>",
      description: "show the n last created containers",
    },
    { flags: "-l, --latest", description: "show the latest created container" },
    { flags: "--no-trunc", description: "do not truncate output" },
    repeatable(
      "-f, --filter <filter>",
      "filter output (name, status, label, ancestor, id)",
    ),
    { flags: "--format <format>", description: "json or a Go template" },
  ],
  args: [],
  action: async (f: PsFlags) => {
    const n = f.latest ? 1 : f.last === undefined ? -1 : Number(f.last);
    const rows = await listContainers(userEngine(), {
      all: f.all,
      last: n >= 0 ? n : undefined,
      filters: f.filter.map(parseContainerFilter),
      noTrunc: f.trunc === false,
    });
    if (f.quiet) {
      for (const r of rows) console.log(r.ID);
    } else if (f.format) {
      printFormatted(f.format, rows);
    } else {
      console.log(table([
        [
          "CONTAINER ID",
          "IMAGE",
          "COMMAND",
          "CREATED",
          "STATUS",
          "PORTS",
          "NAMES",
        ],
        ...rows.map((
          r,
        ) => [
          r.ID,
          r.Image,
          r.Command,
          r.RunningFor,
          r.Status,
          r.Ports,
          r.Names,
        ]),
      ]));
    }
  },
};

/** The listing commands. */
export const specs: CommandSpec[] = [psSpec];
