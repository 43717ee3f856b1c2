/**
 * `ptd volume create|ls|inspect|rm|prune`: parsing, one call of
 * src/engine/volumes.ts, printing.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import {
  createVolume,
  inspectVolume,
  listVolumes,
  prunableVolumes,
  pruneVolumesUnused,
  removeAllVolumes,
  removeVolumesByName,
  volumeListView,
} from "../engine/volumes.ts";
import { invalid } from "../runtime/errors.ts";
import { askToContinue } from "./confirm.ts";
import { headers, printInspect, printReport, table } from "./format.ts";
import { collect, parseLabels, uintArg } from "./options.ts";
import { REMOVAL, reportFailures, withPolicy } from "./targets.ts";

/** `volume ls` table headers: Podman's, from VolumeListReport's fields. */
const VOLUME_HEADERS = headers(
  "Name Driver Mountpoint Scope Labels CreatedAt Options Anonymous " +
    "MountCount NeedsCopyUp NeedsChown",
  { Name: "volume name" },
);

/** The `volume` command group. */
export function volumeCommand(setCode: (code: number) => void): Command {
  const group = new Command("volume").description("Manage volumes");
  group.command("create")
    .description("Create a volume")
    .option("-l, --label <label>", "set metadata (key=value)", collect, [])
    .option("--driver <driver>", "volume driver: local", "local")
    .option(
      "-o, --opt <option>",
      "driver option: type=tmpfs with o=OPTIONS (others need root)",
      collect,
      [],
    )
    .argument("[name]", "volume name (random if omitted)")
    .action(
      async (
        name: string | undefined,
        f: { label: string[]; driver: string; opt: string[] },
      ) => {
        console.log(
          await createVolume(userEngine(), name, parseLabels(f.label), {
            driver: f.driver,
            options: f.opt,
          }),
        );
      },
    );
  group.command("ls")
    .alias("list")
    .description("List volumes")
    .option(
      "-f, --filter <filter>",
      "filter output (name, label, driver, dangling, until, ...)",
      collect,
      [],
    )
    .option("--format <format>", "json, or a Go template such as {{.Name}}")
    .option("--noheading", "do not print headers")
    .option("-q, --quiet", "print only volume names")
    .action(
      (
        f: {
          quiet?: boolean;
          format?: string;
          filter: string[];
          noheading?: boolean;
        },
      ) => {
        const vs = listVolumes(userEngine(), f.filter);
        if (f.quiet) return vs.forEach((v) => console.log(v.Name));
        if (f.format !== undefined) {
          return printReport(f.format, vs, {
            name: "ls",
            indent: "  ",
            jsoniter: true,
            headers: VOLUME_HEADERS,
            view: volumeListView,
          }, f.noheading);
        }
        const body = vs.map((v) => [v.Driver, v.Name]);
        const out = table(
          f.noheading
            ? body
            : [[VOLUME_HEADERS.Driver, VOLUME_HEADERS.Name], ...body],
        );
        if (out) console.log(out);
      },
    );
  group.command("inspect")
    .description("Show volumes as JSON")
    .argument("[names...]")
    .option("-a, --all", "inspect all volumes")
    .option(
      "-f, --format <format>",
      "json, or a Go template such as {{.Mountpoint}}",
    )
    .action((names: string[], f: { format?: string; all?: boolean }) => {
      if (!f.all === (names.length === 0)) {
        throw invalid("provide one or more volume names or use --all");
      }
      const e = userEngine();
      if (f.all) names = listVolumes(e).map((v) => v.Name);
      return printInspect(f.format, names.map((n) => inspectVolume(e, n)));
    });
  group.command("rm")
    .alias("remove")
    .description("Remove volumes")
    .option("-a, --all", "remove all volumes")
    .option("-f, --force", "remove the containers that use them first")
    .option(
      "-t, --time <seconds>",
      "seconds to wait for running containers to stop (ptd kills them)",
      uintArg("-t, --time"),
    )
    .argument("[names...]")
    .action(async (names: string[], f: { all?: boolean; force?: boolean }) => {
      if (!f.all === (names.length === 0)) {
        throw invalid("choose either one or more volumes or all");
      }
      if (f.all) {
        const report = await removeAllVolumes(userEngine(), !!f.force);
        report.removed.forEach((n) => console.log(n));
        return setCode(
          reportFailures(report.errors.map((x) => x.error), REMOVAL),
        );
      }
      const gone = await withPolicy(
        REMOVAL,
        () => removeVolumesByName(userEngine(), names, !!f.force),
      );
      gone.forEach((n) => console.log(n));
    });
  group.command("prune")
    .description("Remove every volume no container uses")
    .option(
      "--filter <filter>",
      "only the volumes these select (label=KEY=VALUE, ...)",
      collect,
      [],
    )
    .option("-f, --force", "do not ask for confirmation")
    .action(async (f: { force?: boolean; filter: string[] }) => {
      const e = userEngine();
      if (!f.force) {
        const names = prunableVolumes(e, f.filter);
        const warning =
          "WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:";
        if (names.length === 0) {
          return console.log(`${warning}\nNo dangling volumes found`);
        }
        if (!askToContinue([warning, ...names].join("\n"))) return;
      }
      (await pruneVolumesUnused(e, f.filter)).forEach((n) => console.log(n));
    });
  return group;
}
