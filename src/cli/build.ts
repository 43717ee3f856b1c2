/**
 * `build` (and `image build`, `buildx build`) and `commit`, as Podman
 * spells them. The engine modules load only when one of them runs.
 */
import { Command, Option } from "commander";
import { parseVolumeFlag } from "../container/mounts.ts";
import { buildCode, commitCode } from "../engine/build_code.ts";
import { userEngine } from "../engine/engine.ts";
import { localName } from "../image/reference.ts";
import { invalid } from "../runtime/errors.ts";
import { boolArg, collect } from "./options.ts";

interface BuildFlags {
  tag: string[];
  file: string[];
  buildArg: string[];
  buildArgFile: string[];
  target?: string;
  cache: boolean;
  pull?: string | boolean;
  layers: boolean;
  squash?: boolean;
  squashAll?: boolean;
  iidfile?: string;
  label: string[];
  annotation: string[];
  format: "oci" | "docker";
  quiet?: boolean;
  network?: string;
  volume: string[];
  secret: string[];
  cacheTtl?: string;
  timestamp?: string;
}

/** `KEY=VALUE` items (a bare KEY from our environment) as a map. */
function buildArgs(items: string[], files: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const add = (item: string) => {
    const i = item.indexOf("=");
    if (i >= 0) out.set(item.slice(0, i), item.slice(i + 1));
    else {
      const v = Deno.env.get(item);
      if (v !== undefined) out.set(item, v);
    }
  };
  for (const f of files) {
    let text: string;
    try {
      text = Deno.readTextFileSync(f);
    } catch {
      throw invalid(`reading --build-arg-file ${f}: no such file`);
    }
    for (const line of text.split("\n")) {
      if (line.trim() && !line.trim().startsWith("#")) add(line.trim());
    }
  }
  for (const item of items) add(item);
  return out;
}

/** `--label K=V` (and --annotation) items as a record. */
function pairs(items: string[]): Record<string, string> {
  return Object.fromEntries(items.map((l) => {
    const i = l.indexOf("=");
    return i < 0 ? [l, ""] : [l.slice(0, i), l.slice(i + 1)];
  }));
}

/** `--secret id=ID,src=FILE` items as id -> file. */
function secrets(items: string[]): Map<string, string> {
  return new Map(items.map((s) => {
    const o = new Map(
      s.split(",").map((kv) => kv.split("=", 2) as [string, string]),
    );
    const id = o.get("id");
    const src = o.get("src") ?? o.get("source");
    if (!id || !src) {
      throw invalid(`invalid secret ${JSON.stringify(s)}: want id=ID,src=FILE`);
    }
    return [id, src];
  }));
}

/** A Go duration (`--cache-ttl 5m`) in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  for (let i = 0; i < text.length;) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) {
      throw invalid(
        `invalid --cache-ttl ${
          JSON.stringify(text)
        }: want a duration such as 5m`,
      );
    }
    total += Number(m[1]) * units[m[2]];
    i = re.lastIndex;
  }
  return total;
}

/** A `build` command named `name`. */
export function buildCommand(name = "build"): Command {
  return new Command(name)
    .description("Build an image using instructions from Containerfiles")
    .argument("[context]", "build context: a directory, a tarball, or -", ".")
    .option(
      "-t, --tag <name>",
      "name of the built image (repeatable)",
      collect,
      [],
    )
    .option(
      "-f, --file <path>",
      "the Containerfile (default: Containerfile, then Dockerfile, in the context; - for stdin)",
      collect,
      [],
    )
    .option(
      "--build-arg <arg=value>",
      "value of an ARG (repeatable)",
      collect,
      [],
    )
    .option(
      "--build-arg-file <file>",
      "ARG values, one KEY=VALUE a line (repeatable)",
      collect,
      [],
    )
    .option("--target <stage>", "build only up to this stage")
    .option("--no-cache", "do not use cached step images")
    .option(
      "--pull [policy]",
      "pull the FROM image: always (no policy), missing, never, newer",
    )
    .option(
      "--layers [bool]",
      "keep and reuse step images",
      boolArg("--layers"),
      true,
    )
    .option("--squash", "the layers this build makes as one")
    .option("--squash-all", "every layer of the image as one")
    .option("--iidfile <file>", "write the image id to the file")
    .option(
      "--label <key=value>",
      "a label of the image (repeatable)",
      collect,
      [],
    )
    .option(
      "--annotation <key=value>",
      "an annotation of the image's manifest (repeatable)",
      collect,
      [],
    )
    .addOption(
      new Option("--format <format>", "image format").choices(["oci", "docker"])
        .default("oci"),
    )
    .option("-q, --quiet", "print only the image id")
    .option("--network <mode>", "network of the RUN containers")
    .option(
      "-v, --volume <volume>",
      "bind a volume into the RUN containers (repeatable)",
      collect,
      [],
    )
    .option(
      "--secret <id=ID,src=FILE>",
      "a secret for RUN --mount=type=secret (repeatable)",
      collect,
      [],
    )
    .option("--cache-ttl <duration>", "use only cached steps younger than this")
    .option(
      "--timestamp <seconds>",
      "creation time of the image (seconds since the epoch)",
    )
    .option("--rm [bool]", "accepted: step containers are always removed")
    .option("--force-rm [bool]", "accepted: step containers are always removed")
    .action(async (context: string, f: BuildFlags) => {
      const { buildImage } = await buildCode();
      if (f.timestamp !== undefined && !/^\d+$/.test(f.timestamp)) {
        throw invalid(
          `invalid --timestamp ${
            JSON.stringify(f.timestamp)
          }: want seconds since the epoch`,
        );
      }
      const pull = f.pull === undefined || f.pull === "false"
        ? "missing"
        : f.pull === true || f.pull === "true"
        ? "always"
        : String(f.pull);
      if (!["always", "missing", "never", "newer"].includes(pull)) {
        throw invalid(
          `invalid pull policy "${pull}": want always, missing, never or newer`,
        );
      }
      const quiet = !!f.quiet;
      const img = await buildImage(userEngine(), {
        context,
        file: f.file.at(-1),
        tags: f.tag,
        buildArgs: buildArgs(f.buildArg, f.buildArgFile),
        target: f.target,
        noCache: !f.cache,
        layers: f.layers,
        pull,
        squash: f.squashAll ? "all" : f.squash ? "new" : undefined,
        labels: pairs(f.label),
        annotations: pairs(f.annotation),
        docker: f.format === "docker",
        network: f.network,
        volumes: f.volume.map(parseVolumeFlag),
        secrets: secrets(f.secret),
        cacheTtlMs: f.cacheTtl === undefined
          ? undefined
          : durationMs(f.cacheTtl),
        timestamp: f.timestamp === undefined
          ? undefined
          : new Date(Number(f.timestamp) * 1000),
        say: quiet ? undefined : (line) => console.log(line),
        quiet,
      });
      if (!quiet) {
        if (f.tag.length) console.log(`COMMIT ${f.tag[0]}`);
        for (const t of f.tag) {
          console.log(`Successfully tagged ${localName(t)}`);
        }
      }
      console.log(img.id);
      if (f.iidfile) Deno.writeTextFileSync(f.iidfile, `sha256:${img.id}`);
    });
}

/** `commit`. */
export function commitCommand(): Command {
  return new Command("commit")
    .description("Create new image based on the changed container")
    .argument("<container>", "the container to commit")
    .argument("[image]", "name of the new image")
    .option(
      "-c, --change <instruction>",
      "apply a Containerfile instruction to the config (repeatable)",
      collect,
      [],
    )
    .option("-m, --message <text>", "commit message (history comment)")
    .option("-a, --author <name>", "author of the image")
    .option(
      "-p, --pause",
      "accepted: ptd has no freezer on these hosts; the container keeps running",
    )
    .addOption(
      new Option("-f, --format <format>", "image format").choices([
        "oci",
        "docker",
      ]).default("oci"),
    )
    .option("--squash", "the whole file system as one layer")
    .option("--include-volumes", "include container volumes as image volumes")
    .option("-q, --quiet", "print only the image id")
    .option("--iidfile <file>", "write the image id to the file")
    .action(
      async (
        container: string,
        image: string | undefined,
        f: {
          change: string[];
          message?: string;
          author?: string;
          format: string;
          squash?: boolean;
          includeVolumes?: boolean;
          iidfile?: string;
        },
      ) => {
        const { commitContainer } = await commitCode();
        const img = await commitContainer(userEngine(), container, {
          name: image,
          changes: f.change,
          message: f.message,
          author: f.author,
          docker: f.format === "docker",
          squash: !!f.squash,
          includeVolumes: !!f.includeVolumes,
        });
        console.log(img.id);
        if (f.iidfile) Deno.writeTextFileSync(f.iidfile, `sha256:${img.id}`);
      },
    );
}
