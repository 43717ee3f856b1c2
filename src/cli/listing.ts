/** `ps`: what the user's containers are, as Docker shows it. */
import { userEngine } from "../engine/engine.ts";
import {
  listContainers,
  parseContainerFilters,
  parsePsSort,
  PS_SORT_KEYS,
  type PsSort,
} from "../engine/listing.ts";
import { psView } from "../container/present.ts";
import { headers, printReport, table } from "./format.ts";
import { repeatable } from "./options.ts";
import type { CommandSpec } from "./spec.ts";

interface PsFlags {
  all?: boolean;
  external?: boolean;
  quiet?: boolean;
  last?: string;
  latest?: boolean;
  trunc?: boolean;
  noheading?: boolean;
  size?: boolean;
  pod?: boolean;
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
      description: "show build containers too (ptd build's RUN steps)",
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
    {
      flags: "-p, --pod",
      description: "print the pod id and name of each container",
    },
    { flags: "-q, --quiet", description: "print only the ids" },
    { flags: "-s, --size", description: "display the total file sizes" },
    {
      flags: "--sync",
      description: "accepted: ptd reconciles with the processes every time",
    },
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
      sort: f.sort as PsSort | undefined,
      size: f.size,
      external: f.external,
      pod: f.pod,
    });
    const noTrunc = f.trunc === false;
    if (f.quiet) {
      for (const r of rows) console.log(noTrunc ? r.Id : r.Id.slice(0, 12));
    } else if (f.format !== undefined) {
      await printReport(f.format, rows, {
        name: "ps",
        indent: "  ",
        jsoniter: true,
        headers: PS_HEADERS,
        view: (r) => psView(r, noTrunc),
      });
    } else {
      const views = rows.map((r) => psView(r, noTrunc));
      const columns = [
        ...PS_COLUMNS,
        ...(f.size ? ["Size"] : []),
        ...(f.pod ? ["Pod", "PodName"] : []),
      ];
      const body = views.map((v) => columns.map((c) => String(v[c])));
      const out = table(
        f.noheading ? body : [columns.map((c) => PS_HEADERS[c]), ...body],
      );
      if (out) console.log(out);
    }
  },
};

/** The columns of Podman's default `ps` table. */
const PS_COLUMNS = [
  "ID",
  "Image",
  "Command",
  "CreatedHuman",
  "Status",
  "Ports",
  "Names",
];

/** `ps` table headers: Podman's, from ListContainer's fields. */
const PS_HEADERS = headers(
  "AutoRemove Command Created CreatedAt Exited ExitedAt ExitCode ID Image " +
    "ImageID IsInfra Labels Mounts Names Namespaces Networks Pid Pod " +
    "PodName Ports Size StartedAt State Status",
  {
    Cgroup: "cgroupns",
    CreatedHuman: "created",
    ID: "container id",
    IPC: "ipc",
    MNT: "mnt",
    NET: "net",
    PIDNS: "pidns",
    Pod: "pod id",
    PodName: "podname",
    RunningFor: "running for",
    UTS: "uts",
    User: "userns",
  },
);

/** The listing commands. */
export const specs: CommandSpec[] = [psSpec];
