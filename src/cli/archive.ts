/**
 * `save`, `load` and `import`: images to and from tar archives, as Podman
 * spells them.
 */
import { Command, Option } from "commander";
import type { ArchiveFormat } from "../image/archive.ts";
import { userEngine } from "../engine/engine.ts";
import { importImage, loadImages, saveArchive } from "../engine/archive.ts";
import { collect } from "./options.ts";

/** The `save` command. */
export function saveCommand(): Command {
  return new Command("save")
    .description("Save images to an archive (stdout by default)")
    .argument("<image...>", "images to save")
    .option("-o, --output <file>", "write to a file, not stdout")
    .addOption(
      new Option("--format <format>", "archive format")
        .choices(["docker-archive", "oci-archive"])
        .default("docker-archive"),
    )
    .option(
      "-m, --multi-image-archive",
      "save every image named (docker-archive), not one image with more tags",
    )
    .option("--uncompressed", "accepted: ptd never compresses a layer")
    .option("--compress", "accepted: docker-archive layers are plain tars")
    .option("-q, --quiet", "print nothing (ptd prints no progress anyway)")
    .action(
      async (
        images: string[],
        f: {
          output?: string;
          format: ArchiveFormat;
          multiImageArchive?: boolean;
        },
      ) => {
        await saveArchive(
          userEngine(),
          images,
          f.format,
          f.output,
          !!f.multiImageArchive,
        );
      },
    );
}

/** The `load` command. */
export function loadCommand(): Command {
  return new Command("load")
    .description("Load images from a docker-archive or oci-archive")
    .option("-i, --input <file>", "read from a file, not stdin")
    .option("-q, --quiet", "print nothing on success")
    .action(async (f: { input?: string; quiet?: boolean }) => {
      const loaded = await loadImages(userEngine(), f.input);
      if (f.quiet) return;
      for (const img of loaded) {
        const names = img.names.length ? img.names : [`sha256:${img.id}`];
        for (const n of names) console.log(`Loaded image: ${n}`);
      }
    });
}

/** The `import` command. */
export function importCommand(): Command {
  return new Command("import")
    .description("Make an image from a rootfs tarball ('-': stdin)")
    .argument("<tarball>", "file, or - for stdin")
    .argument("[reference]", "name of the new image")
    .option(
      "-c, --change <instruction>",
      "apply CMD, ENTRYPOINT, ENV, WORKDIR, USER or VOLUME (repeatable)",
      collect,
      [],
    )
    .option("-m, --message <text>", "commit message for the history")
    .option("-q, --quiet", "print only the image id")
    .option("--arch <arch>", "architecture the image claims")
    .option("--os <os>", "operating system the image claims")
    .option(
      "--variant <variant>",
      "accepted: Podman 4.3 records no variant of an import either",
    )
    .action(
      async (
        tarball: string,
        reference: string | undefined,
        f: {
          change: string[];
          message?: string;
          arch?: string;
          os?: string;
        },
      ) => {
        const img = await importImage(userEngine(), tarball, {
          reference,
          changes: f.change,
          message: f.message,
          architecture: f.arch,
          os: f.os,
        });
        console.log(`sha256:${img.id}`);
      },
    );
}
