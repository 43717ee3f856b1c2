/** `ps` and `inspect`: what the user's containers are, as Docker shows it. */
import { invalid } from "../runtime/errors.ts";
import type { ContainerConfig } from "../container/config.ts";
import { isActive, reconcile } from "../container/liveness.ts";
import { inspectDoc, psRow } from "../container/present.ts";
import { printFormatted, renderTemplate, table } from "./format.ts";
import { repeatable } from "./options.ts";
import type { CommandSpec } from "./spec.ts";
import { containerStore as store, eachContainer } from "./targets.ts";

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  last?: string;
  latest?: boolean;
  noTrunc?: boolean;
  filter: string[];
  format?: string;
}

function matches(filter: string, c: ContainerConfig, status: string): boolean {
  const i = filter.indexOf("=");
  if (i < 0) {
    throw invalid(`invalid filter ${JSON.stringify(filter)}: use key=value`);
  }
  const key = filter.slice(0, i), value = filter.slice(i + 1);
  switch (key) {
    case "name":
      return new RegExp(value).test(c.name);
    case "id":
      return c.id.startsWith(value);
    case "status":
      return status === value;
    case "ancestor":
      return c.image === value || c.imageId.startsWith(value);
    case "label": {
      const j = value.indexOf("=");
      return j < 0
        ? value in c.labels
        : c.labels[value.slice(0, j)] === value.slice(j + 1);
    }
    default:
      throw invalid(`invalid filter ${JSON.stringify(key)}`);
  }
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
  action: async (f: PsFlags & { trunc?: boolean }) => {
    const s = store();
    const full = f.trunc === false;
    const n = f.latest ? 1 : f.last === undefined ? -1 : Number(f.last);
    const rows = [];
    for (const c of s.list()) {
      const st = await reconcile(s, c.id);
      const shown = f.all || n >= 0 || f.filter.length > 0 || isActive(st);
      if (!shown || !f.filter.every((x) => matches(x, c, st.status))) {
        continue;
      }
      rows.push(psRow(c, st, full));
    }
    rows.reverse(); // newest first, as Docker lists them
    if (n >= 0) rows.splice(n);
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

const inspectSpec: CommandSpec = {
  name: "inspect",
  description: "Show details of containers",
  options: [{ flags: "-f, --format <format>", description: "a Go template" }],
  args: [["<containers...>"]],
  action: async (refs: string[], f: { format?: string }) => {
    const docs: unknown[] = [];
    const code = await eachContainer(refs, async (s, c) => {
      docs.push(inspectDoc(s, c, await reconcile(s, c.id)));
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
