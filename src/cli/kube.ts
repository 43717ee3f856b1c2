/**
 * `generate kube`, `play kube`, `kube generate|play|down`: parsing, one
 * call of src/kube each (loaded only when one of them runs: it brings the
 * YAML parser and Kubernetes' schemas), printing in Podman 4.3's shape.
 */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import { lazy } from "../runtime/lazy.ts";
import { invalid } from "../runtime/errors.ts";
import { boolArg, collect } from "./options.ts";
import { pullReporter } from "./progress.ts";

type Generate = typeof import("../kube/generate.ts");
type Play = typeof import("../kube/play.ts");
type PlayKubeReport = import("../kube/play.ts").PlayKubeReport;

/** `generate kube` (and `kube generate`). */
export function generateKubeCommand(name: string): Command {
  return new Command(name)
    .description("Generate Kubernetes YAML based on containers or pods")
    .argument("<containers-or-pods...>", "names or ids")
    .option("-s, --service", "generate a Service for the published ports")
    .option("-f, --filename <file>", "write the YAML to a file")
    .option("--type <type>", "the kind of object: pod or deployment", "pod")
    .action(
      async (
        refs: string[],
        f: { service?: boolean; filename?: string; type: string },
      ) => {
        const { generateKube } = await lazy<Generate>("src/kube/generate.ts");
        const yaml = await generateKube(userEngine(), {
          refs,
          service: f.service,
          type: f.type as "pod",
        });
        if (f.filename) Deno.writeTextFileSync(f.filename, yaml);
        else Deno.stdout.writeSync(new TextEncoder().encode(yaml));
      },
    );
}

interface PlayFlags {
  down?: boolean;
  force?: boolean;
  replace?: boolean;
  start: boolean;
  quiet?: boolean;
  configmap: string[];
  network: string[];
  logDriver?: string;
  build?: boolean;
  contextDir?: string;
}

/** `play kube` (and `kube play`). */
export function playKubeCommand(name: string): Command {
  return new Command(name)
    .description("Play a pod or volume based on Kubernetes YAML")
    .argument("<file>", "the YAML file, - for stdin, or an http(s) URL")
    .option("--down", "remove the pods the YAML made")
    .option("--force", "with --down, remove the volumes too")
    .option("--replace", "remove pods of the same names first")
    .option("--start [=bool]", "start the pods", boolArg("--start"), true)
    .option("-q, --quiet", "no pull progress")
    .option(
      "--build [=bool]",
      "build images from Containerfiles in directories of their names (default: the missing ones)",
      boolArg("--build"),
    )
    .option(
      "--context-dir <dir>",
      "where those directories are (default: the working directory)",
    )
    .option(
      "--configmap <file>",
      "a YAML file of ConfigMaps (repeatable)",
      collect,
      [],
    )
    .option("--network <mode>", "the pods' network", collect, [])
    .option("--log-driver <driver>", "the containers' log driver")
    .action(async (file: string, f: PlayFlags) => {
      if (f.contextDir !== undefined && f.build !== true) {
        throw invalid(
          "--build must be specified when using --context-dir option",
        );
      }
      if (f.down) return await down(file, !!f.force);
      const { playKube, readManifest } = await lazy<Play>("src/kube/play.ts");
      const report = await playKube(userEngine(), {
        ...await readManifest(file),
        replace: f.replace,
        start: f.start,
        configMaps: await Promise.all(f.configmap.map(readManifest)),
        warn: (line) => console.error(`WARN: ${line}`),
        onProgress: pullReporter(!!f.quiet),
        network: f.network.length > 0 ? f.network : undefined,
        logDriver: f.logDriver,
        build: {
          build: f.build,
          contextDir: f.contextDir,
          say: (line) => console.log(line),
        },
        replaced: printRemoved,
      });
      printPlayed(report);
    });
}

/** The report in Podman's shape; containers that did not start fail it. */
function printPlayed(report: PlayKubeReport) {
  if (report.volumes.length > 0) {
    console.log(["Volumes:", ...report.volumes].join("\n"));
  }
  let failed = 0;
  for (const pod of report.pods) {
    console.log(`Pod:\n${pod.id}`);
    const n = pod.containers.length;
    if (n === 0) continue;
    console.log(n === 1 ? "Container:" : "Containers:");
    for (const id of pod.containers) console.log(id);
    if (pod.errors.length > 0) console.log();
    for (const err of pod.errors) console.error(err);
    failed += pod.errors.length;
    console.log();
  }
  if (failed > 0) throw invalid(`failed to start ${failed} containers`);
}

/** Podman's report of pods stopped and removed (--down, --replace). */
function printRemoved(pods: string[]) {
  for (const head of ["Pods stopped:", "Pods removed:"]) {
    console.log([head, ...pods].join("\n"));
  }
}

async function down(file: string, force: boolean) {
  const { downKube, readManifest } = await lazy<Play>("src/kube/play.ts");
  const report = await downKube(userEngine(), {
    ...await readManifest(file),
    force,
  });
  printRemoved(report.pods);
  if (report.volumes.length > 0) {
    console.log(`Volumes removed:\n${report.volumes.join("\n")}`);
  }
}

/** `kube down`. */
function downCommand(): Command {
  return new Command("down")
    .description("Remove pods based on Kubernetes YAML")
    .argument("<file>", "the YAML file, - for stdin, or an http(s) URL")
    .option("--force", "remove the volumes too")
    .action((file: string, f: { force?: boolean }) => down(file, !!f.force));
}

/** The `kube` group: generate, play, down. */
export function kubeCommand(): Command {
  return new Command("kube")
    .description("Play containers, pods or volumes from a structured file")
    .addCommand(generateKubeCommand("generate"))
    .addCommand(playKubeCommand("play"))
    .addCommand(downCommand());
}

/** The `play` group: kube. */
export function playCommand(): Command {
  return new Command("play")
    .description("Play containers, pods or volumes from a structured file")
    .addCommand(playKubeCommand("kube"));
}
