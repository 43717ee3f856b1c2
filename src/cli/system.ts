/**
 * `version`, `info`, the `system` group (df, prune, reset, info) and the
 * `exists` commands of containers, images and volumes: parsing, one call of
 * src/engine/system.ts or objects.ts, printing in Podman's layout.
 */
import { Command } from "commander";
import { goUnitsSize } from "../runtime/sizes.ts";
import { askToContinue } from "./confirm.ts";
import { collect } from "./options.ts";
import { humanDuration } from "../runtime/gomap.ts";
import { userEngine } from "../engine/engine.ts";
import { objectExists, type ObjectType } from "../engine/objects.ts";
import {
  diskUsage,
  pruneSystem,
  resetStore,
  systemInfo,
  versionInfo,
} from "../engine/system.ts";
import {
  headers,
  isJson,
  printReport,
  printTemplate,
  table,
} from "./format.ts";
import { lazy } from "../runtime/lazy.ts";
import { uintArg } from "./options.ts";
import type { CommandSpec } from "./spec.ts";
import { reportError } from "./targets.ts";

/** `version`: Podman's client block, or --format against {Client: ...}. */
export function versionCommand(): Command {
  return new Command("version")
    .description("Display the Podman version information")
    .option(
      "-f, --format <format>",
      "Change the output format to JSON or a Go template",
    )
    .action((f: { format?: string }) => {
      const v = versionInfo();
      if (f.format && isJson(f.format)) {
        return console.log(JSON.stringify({ Client: v }));
      }
      if (f.format) return printTemplate("version", f.format, { Client: v });
      console.log(table([
        ["Client:", "ptd"],
        ["Version:", v.Version],
        ["API Version:", v.APIVersion],
        ["Go Version:", v.GoVersion],
        ["Built:", v.BuiltTime],
        ["OS/Arch:", v.OsArch],
      ]));
    });
}

/** A value as YAML, the way Podman prints `info`. */
export function toYaml(v: unknown, indent = ""): string {
  const scalar = (x: unknown) =>
    typeof x === "string"
      ? (/^[\w./@+-][\w ./@+:,-]*$/.test(x) && !/^\d/.test(x) && x !== ""
        ? x
        : JSON.stringify(x))
      : String(x);
  if (Array.isArray(v)) {
    if (v.length === 0) return " []";
    return v.map((x) => {
      if (x !== null && typeof x === "object") {
        const body = toYaml(x, `${indent}  `).replace(/^\n\s*/, "");
        return `\n${indent}- ${body}`;
      }
      return `\n${indent}- ${scalar(x)}`;
    }).join("");
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v);
    if (entries.length === 0) return " {}";
    return entries.map(([k, x]) => {
      const nested = x !== null && typeof x === "object";
      return `\n${indent}${k}:${
        nested ? toYaml(x, `${indent}  `) : ` ${scalar(x)}`
      }`;
    }).join("");
  }
  return ` ${scalar(v)}`;
}

/** Go's field names where they are not the JSON key capitalized. */
const GO_NAMES: Record<string, string> = {
  cpus: "CPUs",
  container_id: "ContainerID",
  gidmap: "GIDMap",
  host_id: "HostID",
  idMappings: "IDMappings",
  ociRuntime: "OCIRuntime",
  os: "OS",
  uidmap: "UIDMap",
};

/**
 * The info document with the field names of Podman's Go structs, which is
 * what its templates see (`{{.Store.GraphRoot}}`); the registries are a
 * map, their keys kept.
 */
export function goFields(v: unknown, keepKeys = false): unknown {
  if (Array.isArray(v)) return v.map((x) => goFields(x));
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [
      keepKeys ? k : GO_NAMES[k] ?? k[0].toUpperCase() + k.slice(1),
      goFields(x, k === "registries"),
    ]),
  );
}

/** `info` (also `system info`). */
function infoCommand(): Command {
  return new Command("info")
    .description("Display podman system information")
    .option(
      "-f, --format <format>",
      "Change the output format to JSON or a Go template",
    )
    .action(async (f: { format?: string }) => {
      const doc = await systemInfo(userEngine());
      if (f.format === "json") console.log(JSON.stringify(doc, null, 2));
      else if (f.format) await printTemplate("info", f.format, goFields(doc));
      else console.log(toYaml(doc).replace(/^\n/, ""));
    });
}

const percent = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((part * 100) / whole);

/** go-units' HumanSize, as Podman's `system df` prints sizes: "2.008MB". */
const size = (bytes: number) => goUnitsSize(bytes, 4);

function dfCommand(): Command {
  return new Command("df")
    .description("Show podman disk usage")
    .option("-v, --verbose", "Show detailed information on disk usage")
    .option("--format <format>", "Pretty-print images using a Go template")
    .action(async (f: { verbose?: boolean; format?: string }) => {
      const u = await diskUsage(userEngine());
      const rows = u.summary.map((s) => ({
        Type: s.Type,
        Total: String(s.Total),
        Active: String(s.Active),
        Size: size(s.Size),
        Reclaimable: `${size(s.Reclaimable)} (${
          percent(s.Reclaimable, s.Size)
        }%)`,
      }));
      if (f.format) {
        return printReport(f.format, rows, {
          name: "df",
          indent: "    ",
          headers: headers("Type Total Active Size Reclaimable"),
          view: (r) => r,
        });
      }
      if (!f.verbose) {
        return console.log(table([
          ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
          ...rows.map((
            r,
          ) => [r.Type, r.Total, r.Active, r.Size, r.Reclaimable]),
        ]));
      }
      // Podman's -v says how long ago, without the "ago".
      const ago = (iso: string) => humanDuration(Date.now() - Date.parse(iso));
      const name = (n: string) => {
        const i = n.lastIndexOf(":");
        return i > n.lastIndexOf("/")
          ? [n.slice(0, i), n.slice(i + 1)]
          : [n, ""];
      };
      console.log("Images space usage:\n");
      console.log(table([
        [
          "REPOSITORY",
          "TAG",
          "IMAGE ID",
          "CREATED",
          "SIZE",
          "SHARED SIZE",
          "UNIQUE SIZE",
          "CONTAINERS",
        ],
        ...u.images.map((i) => [
          ...(i.names.length > 0 ? name(i.names[0]) : ["<none>", "<none>"]),
          i.id.slice(0, 12),
          ago(i.created),
          size(i.size),
          "0B",
          size(i.size),
          String(i.containers),
        ]),
      ]));
      console.log("\nContainers space usage:\n");
      console.log(table([
        [
          "CONTAINER ID",
          "IMAGE",
          "COMMAND",
          "LOCAL VOLUMES",
          "SIZE",
          "CREATED",
          "STATUS",
          "NAMES",
        ],
        ...u.containers.map((c) => [
          c.id.slice(0, 12),
          c.imageId.slice(0, 12),
          c.command.join(" "),
          String(c.volumes),
          size(c.size),
          ago(c.created),
          c.status,
          c.name,
        ]),
      ]));
      console.log("\nLocal Volumes space usage:\n");
      console.log(table([
        ["VOLUME NAME", "LINKS", "SIZE"],
        ...u.volumes.map((v) => [v.name, String(v.links), size(v.size)]),
      ]));
    });
}

function pruneCommand(setCode: (code: number) => void): Command {
  return new Command("prune")
    .description("Remove unused data")
    .option("-a, --all", "Remove all unused data")
    .option(
      "-f, --force",
      "Do not prompt for confirmation.  The default is false",
    )
    .option("--volumes", "Prune volumes")
    .option(
      "--filter <filter>",
      "Provide filter values (e.g. 'label=<key>=<value>')",
      collect,
      [],
    )
    .action(
      async (
        f: {
          all?: boolean;
          force?: boolean;
          volumes?: boolean;
          filter: string[];
        },
      ) => {
        // Podman's question, word for word (networks and build cache too).
        const warning = [
          "WARNING! This command removes:",
          "\t- all stopped containers",
          "\t- all networks not used by at least one container",
          ...(f.volumes
            ? ["\t- all volumes not used by at least one container"]
            : []),
          f.all
            ? "\t- all images without at least one container associated with them"
            : "\t- all dangling images",
          `\t- all ${f.all ? "" : "dangling "}build cache`,
          "",
        ].join("\n");
        if (!f.force && !askToContinue(warning)) return;
        const r = await pruneSystem(userEngine(), f);
        for (
          const [title, ids] of [
            ["Deleted Pods", r.pods],
            ["Deleted Containers", r.containers],
            ["Deleted Networks", r.networks],
            ["Deleted Volumes", r.volumes],
            ["Deleted Images", r.images],
          ] as const
        ) {
          if (ids.length === 0) continue;
          console.log(title);
          for (const id of ids) console.log(id);
        }
        r.errors.forEach(reportError);
        console.log(`Total reclaimed space: ${size(r.reclaimed)}`);
        if (r.errors.length > 0) setCode(125);
      },
    );
}

/**
 * Podman's reset with no answer to its question: a log line (logrus's,
 * not "Error: "), exit 1. Any other failure to ask is an ordinary error.
 */
function askOrEnd(warning: string, setCode: (code: number) => void) {
  try {
    return askToContinue(warning);
  } catch (e) {
    if (!(e instanceof Error) || e.message !== "EOF") throw e;
    const now = new Date().toISOString().slice(0, 19);
    console.error(`time="${now}Z" level=error msg=EOF`);
    setCode(1);
    return false;
  }
}

function resetCommand(setCode: (code: number) => void): Command {
  return new Command("reset")
    .description("Reset podman storage")
    .option("-f, --force", "Do not prompt for confirmation")
    .action(async (f: { force?: boolean }) => {
      const e = userEngine();
      const items = [
        "all containers",
        "all pods",
        "all images",
        "all networks",
        "all build cache",
        "all machines",
        "all volumes",
        `the graphRoot directory: "${e.paths.data}"`,
        `the runRoot directory: "${e.paths.runtime}"`,
      ];
      const warning = ["WARNING! This will remove:", ...items].join(
        "\n        - ",
      );
      if (!f.force && !askOrEnd(warning, setCode)) return;
      await resetStore(e);
    });
}

/**
 * `system service [--time N] [URI]`: the REST API (src/api), loaded only
 * by this command.
 */
function serviceCommand(setCode: (code: number) => void): Command {
  return new Command("service")
    .description("Run an API service")
    .argument("[URI]", "where to listen: unix:///PATH or tcp://HOST:PORT")
    .option(
      "-t, --time <seconds>",
      "Time until the service session expires in seconds.  Use 0 to disable the timeout",
      "5",
    )
    .action(async (uri: string | undefined, f: { time: string }) => {
      const idleSeconds = uintArg("--time")(f.time);
      const { runService } = await lazy<typeof import("../api/service.ts")>(
        "src/api/service.ts",
      );
      setCode(await runService({ uri, idleSeconds }));
    });
}

/** `info`, `version` and the `system` group. */
export function systemCommands(setCode: (code: number) => void): Command[] {
  const group = new Command("system").description("Manage podman");
  for (
    const c of [
      dfCommand(),
      infoCommand(),
      pruneCommand(setCode),
      resetCommand(setCode),
      serviceCommand(setCode),
    ]
  ) {
    group.addCommand(c);
  }
  return [group, infoCommand(), versionCommand()];
}

/** `container|image|volume exists NAME`: exit 0 or 1, nothing printed. */
export function existsSpec(type: ObjectType): CommandSpec {
  return {
    name: "exists",
    description: {
      container: "Check if a container exists in local storage",
      image: "Check if an image exists in local storage",
      volume: "Check if volume exists",
    }[type],
    options: type === "container"
      ? [{
        flags: "--external",
        description: "check external containers as well (ptd has none)",
      }]
      : [],
    args: [[`<${type}>`]],
    action: async (ref: string) =>
      (await objectExists(userEngine(), type, ref)) ? 0 : 1,
  };
}
