/**
 * `ptd generate systemd`: systemd units for containers, with Podman 4.3's
 * options; --files writes CONTAINER-NAME.service files in the current
 * directory and prints their paths.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import { invalid } from "../runtime/errors.ts";
import { generateUnits } from "../systemd/generate.ts";
import {
  RESTART_POLICIES,
  UNIT_DEFAULTS,
  type UnitOptions,
} from "../systemd/unit.ts";
import { generateKubeCommand } from "./kube.ts";
import { collect, uintArg } from "./options.ts";

interface GenerateFlags {
  name?: boolean;
  new?: boolean;
  template?: boolean;
  files?: boolean;
  format?: string;
  restartPolicy: string;
  restartSec?: number;
  time?: number;
  startTimeout?: number;
  stopTimeout?: number;
  containerPrefix: string;
  podPrefix: string;
  separator: string;
  after: string[];
  requires: string[];
  wants: string[];
  env: string[];
  header: boolean;
}

function unitOptions(f: GenerateFlags): UnitOptions {
  if (!RESTART_POLICIES.includes(f.restartPolicy)) {
    throw invalid(`${f.restartPolicy} is not a valid restart policy`);
  }
  if (f.format !== undefined && f.format !== "json") {
    throw invalid(`unknown --format argument: ${f.format}`);
  }
  return {
    ...UNIT_DEFAULTS,
    useName: !!f.name,
    // A template is always a --new unit, as Podman's.
    new: !!f.new || !!f.template,
    template: !!f.template,
    restartPolicy: f.restartPolicy,
    restartSec: f.restartSec,
    stopTimeout: f.stopTimeout ?? f.time,
    startTimeout: f.startTimeout,
    containerPrefix: f.containerPrefix,
    separator: f.separator,
    after: f.after,
    requires: f.requires,
    wants: f.wants,
    env: f.env,
    noHeader: !f.header,
  };
}

/** The `generate` command group. */
export function generateCommand(): Command {
  const group = new Command("generate").description(
    "Generate structured data based on containers",
  );
  group.command("systemd")
    .description("Generate systemd units")
    .argument("<container>", "name or id")
    .option("-n, --name", "use the container's name instead of its id")
    .option("--new", "create the container at start, remove it at stop")
    .option(
      "--template",
      "make it a template file and use %i and %I specifiers",
    )
    .option("-f, --files", "write .service files in the current directory")
    .option("--format <format>", "json: print the units as a JSON object")
    .option(
      "--restart-policy <policy>",
      "systemd restart policy (no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always)",
      "on-failure",
    )
    .option(
      "--restart-sec <seconds>",
      "seconds before a restart",
      uintArg("--restart-sec"),
    )
    .option("-t, --time <seconds>", "stop timeout", uintArg("--time"))
    .option(
      "--start-timeout <seconds>",
      "start timeout",
      uintArg("--start-timeout"),
    )
    .option(
      "--stop-timeout <seconds>",
      "stop timeout",
      uintArg("--stop-timeout"),
    )
    .option(
      "--container-prefix <prefix>",
      "prefix of container units",
      "container",
    )
    .option("--pod-prefix <prefix>", "prefix of pod units", "pod")
    .option("--separator <sep>", "between prefix and name", "-")
    .option("--after <unit>", "add After= (repeatable)", collect, [])
    .option("--requires <unit>", "add Requires= (repeatable)", collect, [])
    .option("--wants <unit>", "add Wants= (repeatable)", collect, [])
    .option("-e, --env <var>", "add Environment= (repeatable)", collect, [])
    .option("--no-header", "no header comment")
    .action((ref: string, f: GenerateFlags) => {
      const units = generateUnits(userEngine(), ref, unitOptions(f));
      if (f.files) {
        for (const [name, text] of Object.entries(units)) {
          const path = `${Deno.cwd()}/${name}.service`;
          Deno.writeTextFileSync(path, text);
          console.log(path);
        }
      } else if (f.format === "json") {
        console.log(JSON.stringify(units, null, " "));
      } else {
        for (const text of Object.values(units)) {
          Deno.stdout.writeSync(new TextEncoder().encode(text));
        }
      }
    });
  group.addCommand(generateKubeCommand("kube"));
  return group;
}
