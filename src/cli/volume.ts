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
  pruneVolumesUnused,
  removeVolumesByName,
  volumeListView,
} from "../engine/volumes.ts";
import { headers, printInspect, printReport, table } from "./format.ts";
import { collect, parseLabels } from "./options.ts";
import { REMOVAL, withPolicy } from "./targets.ts";

/** `volume ls` table headers: Podman's, from VolumeListReport's fields. */
const VOLUME_HEADERS = headers(
  "Name Driver Mountpoint Scope Labels CreatedAt Options Anonymous " +
    "MountCount NeedsCopyUp NeedsChown",
  { Name: "volume name" },
);

/** The `volume` command group. */
export function volumeCommand(): Command {
  const group = new Command("volume").description("Manage volumes");
  group.command("create")
    .description("Create a volume")
    .option("-l, --label <label>", "set metadata (key=value)", collect, [])
    .argument("[name]", "volume name (random if omitted)")
    .action(async (name: string | undefined, f: { label: string[] }) => {
      console.log(
        await createVolume(userEngine(), name, parseLabels(f.label)),
      );
    });
  group.command("ls")
    .alias("list")
    .description("List volumes")
    .option("-q, --quiet", "print only volume names")
    .option("--format <format>", "json, or a Go template such as {{.Name}}")
    .action((f: { quiet?: boolean; format?: string }) => {
      const vs = listVolumes(userEngine());
      if (f.quiet) return vs.forEach((v) => console.log(v.Name));
      if (f.format !== undefined) {
        return printReport(f.format, vs, {
          name: "ls",
          indent: "  ",
          jsoniter: true,
          headers: VOLUME_HEADERS,
          view: volumeListView,
        });
      }
      console.log(table([
        [VOLUME_HEADERS.Driver, VOLUME_HEADERS.Name],
        ...vs.map((v) => [v.Driver, v.Name]),
      ]));
    });
  group.command("inspect")
    .description("Show volumes as JSON")
    .argument("<names...>")
    .option(
      "-f, --format <format>",
      "json, or a Go template such as {{.Mountpoint}}",
    )
    .action((names: string[], f: { format?: string }) => {
      const e = userEngine();
      return printInspect(f.format, names.map((n) => inspectVolume(e, n)));
    });
  group.command("rm")
    .alias("remove")
    .description("Remove volumes")
    .option("-f, --force", "remove the containers that use them first")
    .argument("<names...>")
    .action(async (names: string[], f: { force?: boolean }) => {
      const gone = await withPolicy(
        REMOVAL,
        () => removeVolumesByName(userEngine(), names, !!f.force),
      );
      gone.forEach((n) => console.log(n));
    });
  group.command("prune")
    .description("Remove every volume no container uses")
    .option("-f, --force", "do not ask for confirmation")
    .action(async (f: { force?: boolean }) => {
      if (!f.force && !confirm("Remove all volumes not used by a container?")) {
        return;
      }
      (await pruneVolumesUnused(userEngine())).forEach((n) => console.log(n));
    });
  return group;
}
