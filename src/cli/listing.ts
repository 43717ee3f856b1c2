/** `ps`: what the user's containers are, as Docker shows it. */
import { userEngine } from "../engine/engine.ts";
import {
  listContainers,
  parseContainerFilters,
  parsePsSort,
  PS_SORT_KEYS,
  type PsSort,
} from "../engine/listing.ts";
import { psView } from "../container/ps_row.ts";
import type { Filters } from "../engine/filters.ts";
import { headers, printReport, table } from "./format.ts";
import { intArg, repeatable, uintArg } from "./options.ts";
import { invalid } from "../runtime/errors.ts";
import type { CommandSpec } from "./spec.ts";

interface PsFlags {
  all?: boolean;
  external?: boolean;
  quiet?: boolean;
  last?: number;
  latest?: boolean;
  ns?: boolean;
  pod?: boolean;
  watch?: number;
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
      parse: intArg("-n, --last"),
    },
    { flags: "-l, --latest", description: "show the latest created container" },
    { flags: "--no-trunc", description: "do not truncate output" },
    { flags: "--noheading", description: "do not print headers" },
    { flags: "--ns", description: "display namespace information" },
    {
      flags: "-p, --pod",
      description: "print the ID and name of each container's pod",
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
    {
      flags: "-w, --watch <seconds>",
      description: "list again every N seconds",
      parse: uintArg("-w, --watch"),
    },
  ],
  args: [],
  action: async (f: PsFlags) => {
    checkPsFlags(f);
    const filters = parseContainerFilters(f.filter);
    if (f.quiet || !f.watch) return await ps(f, filters);
    const clear = Deno.stdout.isTerminal() ? "\x1b[2J\x1b[1;1H" : "";
    while (true) {
      if (clear) Deno.stdout.writeSync(new TextEncoder().encode(clear));
      await ps(f, filters);
      await new Promise((ok) => setTimeout(ok, f.watch! * 1000));
    }
  },
};

/** Podman's refusals of flags that do not go together. */
function checkPsFlags(f: PsFlags) {
  if (f.watch && f.latest) {
    throw invalid("the watch and latest flags cannot be used together");
  }
  if (f.quiet && (f.size || f.ns)) {
    throw invalid("quiet conflicts with size and namespace");
  }
  if (f.size && f.ns) throw invalid("size and namespace options conflict");
}

/** One listing, as the flags ask for it. */
async function ps(f: PsFlags, filters: Filters) {
  const n = f.latest ? 1 : f.last ?? -1;
  const rows = await listContainers(userEngine(), {
    all: f.all,
    last: n > 0 ? n : undefined,
    filters,
    sort: f.sort as PsSort | undefined,
    size: f.size,
    external: f.external,
    pod: f.pod,
    namespaces: f.ns,
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
    }, f.noheading);
  } else {
    const views = rows.map((r) => psView(r, noTrunc));
    const columns = f.ns ? NS_COLUMNS : [
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
}

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

/** The columns of `ps --ns`: each namespace's inode number. */
const NS_COLUMNS = [
  "ID",
  "Names",
  "Pid",
  "Cgroup",
  "IPC",
  "MNT",
  "NET",
  "PIDNS",
  "User",
  "UTS",
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
