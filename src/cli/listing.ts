/** `ps` and `inspect`: what the user's containers are, as Docker shows it. */
import { userEngine } from "../engine/engine.ts";
import {
  inspectContainer,
  listContainers,
  parseContainerFilters,
  parsePsSort,
  PS_SORT_KEYS,
  type PsSort,
} from "../engine/listing.ts";
import { humanSize } from "../image/present.ts";
import { printFormatted, renderTemplate, table } from "./format.ts";
import { repeatable } from "./options.ts";
import type { CommandSpec } from "./spec.ts";
import { eachRef } from "./targets.ts";

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  last?: string;
  latest?: boolean;
  trunc?: boolean;
  noheading?: boolean;
  size?: boolean;
  sort?: string;
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
    {
      flags: "--external",
      description: "show containers in storage not controlled by ptd (none)",
    },
    repeatable(
      "-f, --filter <filter>",
      "filter output (Podman's keys: name, id, label, status, exited, ...)",
    ),
    { flags: "--format <format>", description: "json or a Go template" },
    {
      flags: "-n, --last <n>",
      description: "show the n last created containers",
    },
    { flags: "-l, --latest", description: "show the latest created container" },
    { flags: "--no-trunc", description: "do not truncate output" },
    { flags: "--noheading", description: "do not print headers" },
    { flags: "-q, --quiet", description: "print only the ids" },
    { flags: "-s, --size", description: "display the total file sizes" },
    {
      flags: "--sort <key>",
      description: `sort by: ${PS_SORT_KEYS.join(", ")}`,
      parse: parsePsSort,
    },
  ],
  args: [],
  action: async (f: PsFlags) => {
    const n = f.latest ? 1 : f.last === undefined ? -1 : Number(f.last);
    const rows = await listContainers(userEngine(), {
      all: f.all,
      last: n > 0 ? n : undefined,
      filters: parseContainerFilters(f.filter),
      noTrunc: f.trunc === false,
      sort: f.sort as PsSort | undefined,
      size: f.size,
    });
    if (f.quiet) {
      for (const r of rows) console.log(r.ID);
    } else if (f.format) {
      printFormatted(f.format, rows);
    } else {
      const head = [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
        ...(f.size ? ["SIZE"] : []),
      ];
      const body = rows.map((r) => [
        r.ID,
        r.Image,
        r.Command,
        r.RunningFor,
        r.Status,
        r.Ports,
        r.Names,
        ...(r.Size
          ? [
            `${humanSize(r.Size.rwSize)} (virtual ${
              humanSize(r.Size.rootFsSize)
            })`,
          ]
          : []),
      ]);
      const out = table(f.noheading ? body : [head, ...body]);
      if (out) console.log(out);
    }
  },
};

const inspectSpec: CommandSpec = {
  name: "inspect",
  description: "Show details of containers",
  options: [{ flags: "-f, --format <format>", description: "a Go template" }],
  args: [["<containers...>"]],
  action: async (refs: string[], f: { format?: string }) => {
    const docs: unknown[] = [];
    const code = await eachRef(refs, async (e, ref) => {
      docs.push(await inspectContainer(e, ref));
    });
    if (f.format) {
      for (const d of docs) console.log(renderTemplate(f.format, d));
    } else {
      console.log(JSON.stringify(docs, null, 4));
    }
    return code;
  },
};

/** The listing commands. */
export const specs: CommandSpec[] = [psSpec, inspectSpec];
