/** `ps`: what the user's containers are, as Docker shows it. */
import { userEngine } from "../engine/engine.ts";
import { listContainers, parseContainerFilter } from "../engine/listing.ts";
import { psView } from "../container/present.ts";
import { headers, printReport, table } from "./format.ts";
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
      console.log(table([
        PS_COLUMNS.map((c) => PS_HEADERS[c]),
        ...views.map((v) => PS_COLUMNS.map((c) => String(v[c]))),
      ]));
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
