/** `ptd volume create|ls|inspect|rm|prune`: thin wrappers over src/volume. */
import { invalid } from "../runtime/errors.ts";
import { Command } from "commander";
import { ContainerStore, randomId } from "../container/store.ts";
import { forceRemoveVolumes } from "../container/volume_rm.ts";
import { validName } from "../container/names.ts";
import { storePaths } from "../storage/paths.ts";
import { pruneVolumes, removeVolumes } from "../volume/ops.ts";
import { type VolumeRecord, VolumeStore } from "../volume/store.ts";
import { printFormatted, renderTemplate, table } from "./format.ts";
import { collect, parseLabels } from "./options.ts";

/** Docker's and Podman's JSON shape of a volume. */
function inspectShape(v: VolumeRecord) {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.created,
    Labels: v.labels,
    Scope: "local",
    Options: {},
    Anonymous: v.anonymous,
  };
}

function stores() {
  const paths = storePaths();
  return {
    volumes: new VolumeStore(paths),
    containers: new ContainerStore(paths).list(),
  };
}

/** The `volume` command group. */
export function volumeCommand(): Command {
  const group = new Command("volume").description("Manage volumes");
  group.command("create")
    .description("Create a volume")
    .option("-l, --label <label>", "set metadata (key=value)", collect, [])
    .argument("[name]", "volume name (random if omitted)")
    .action(async (name: string | undefined, f: { label: string[] }) => {
      if (name !== undefined && !validName(name)) {
        throw invalid(
          `invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
        );
      }
      const v = await new VolumeStore(storePaths()).create(
        name ?? randomId(),
        { labels: parseLabels(f.label) },
      );
      console.log(v.name);
    });
  group.command("ls")
    .alias("list")
    .description("List volumes")
    .option("-q, --quiet", "print only volume names")
    .option("--format <format>", "json, or a template such as {{.Name}}")
    .action((f: { quiet?: boolean; format?: string }) => {
      const vs = new VolumeStore(storePaths()).list();
      if (f.quiet) return vs.forEach((v) => console.log(v.name));
      if (f.format) return printFormatted(f.format, vs.map(inspectShape));
      console.log(table([
        ["DRIVER", "VOLUME NAME"],
        ...vs.map((v) => [v.driver, v.name]),
      ]));
    });
  group.command("inspect")
    .description("Show volumes as JSON")
    .argument("<names...>")
    .option("--format <format>", "json, or a template such as {{.Mountpoint}}")
    .action((names: string[], f: { format?: string }) => {
      const store = new VolumeStore(storePaths());
      const vs = names.map((n) => inspectShape(store.find(n)));
      if (!f.format || f.format === "json") {
        return console.log(JSON.stringify(vs, null, 2));
      }
      for (const v of vs) console.log(renderTemplate(f.format, v));
    });
  group.command("rm")
    .alias("remove")
    .description("Remove volumes")
    .option("-f, --force", "remove the containers that use them first")
    .argument("<names...>")
    .action(async (names: string[], f: { force?: boolean }) => {
      if (f.force) {
        await forceRemoveVolumes(new ContainerStore(storePaths()), names);
      } else {
        const { volumes, containers } = stores();
        await removeVolumes(volumes, names, containers);
      }
      names.forEach((n) => console.log(n));
    });
  group.command("prune")
    .description("Remove every volume no container uses")
    .option("-f, --force", "do not ask for confirmation")
    .action(async (f: { force?: boolean }) => {
      if (!f.force && !confirm("Remove all volumes not used by a container?")) {
        return;
      }
      const { volumes, containers } = stores();
      const gone = await pruneVolumes(volumes, containers);
      gone.forEach((v) => console.log(v.name));
    });
  return group;
}
