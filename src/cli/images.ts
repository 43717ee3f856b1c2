/**
 * Image commands: `images`, `tag`, `rmi`, `history` and the `image` group
 * (`ls`, `inspect`, `prune`, `rm`, `tag`, `pull`, `push`, `history`):
 * parsing, one call of src/engine/images.ts, printing.
 */
import { Command } from "commander";
import { humanSize } from "../image/present.ts";
import { humanDuration } from "../container/present.ts";
import { userEngine } from "../engine/engine.ts";
import {
  imageHistory,
  inspectImageRef,
  listImages,
  pruneImages,
  removeImages,
  tagImage,
} from "../engine/images.ts";
import { printFormatted, table } from "./format.ts";
import { pullCommand, pushCommand } from "./pull.ts";
import { askToContinue } from "./confirm.ts";
import { collect } from "./options.ts";
import { REMOVAL, withPolicy } from "./targets.ts";

const ago = (iso: string) =>
  `${humanDuration(Date.now() - Date.parse(iso))} ago`;

/** The `images` command (also `image ls`). */
function imagesCommand(name: string): Command {
  return new Command(name)
    .description("List images")
    .argument("[reference]", "only this repository[:tag]")
    .option("-q, --quiet", "show only image ids")
    .option("-a, --all", "show all images (ptd keeps no intermediate ones)")
    .option("--digests", "show digests")
    .option(
      "-f, --filter <filter>",
      "filter output (before, since, dangling, label, reference, ...)",
      collect,
      [],
    )
    .option("--format <format>", "json or a Go template")
    .option("--no-trunc", "do not truncate ids")
    .option("-n, --noheading", "do not print column headings")
    .option(
      "--sort <key>",
      "sort by created, id, repository, size, tag",
      "created",
    )
    .action(
      (
        ref: string | undefined,
        f: {
          quiet?: boolean;
          digests?: boolean;
          trunc: boolean;
          format?: string;
          filter: string[];
          noheading?: boolean;
          sort: string;
          all?: boolean;
        },
      ) => {
        const rows = listImages(userEngine(), {
          reference: ref,
          noTrunc: !f.trunc,
          filters: f.filter,
          sort: f.sort,
          all: f.all,
        });
        if (f.quiet) {
          for (const id of new Set(rows.map((r) => r.ID))) console.log(id);
          return;
        }
        if (f.format) {
          printFormatted(f.format, rows);
          return;
        }
        const head = [
          "REPOSITORY",
          "TAG",
          ...(f.digests ? ["DIGEST"] : []),
          "IMAGE ID",
          "CREATED",
          "SIZE",
        ];
        const body = rows.map((r) => [
          r.Repository,
          r.Tag,
          ...(f.digests ? [r.Digest] : []),
          r.ID,
          ago(r.CreatedAt),
          r.Size,
        ]);
        const out = table(f.noheading ? body : [head, ...body]);
        if (out) console.log(out);
      },
    );
}

function tagCommand(name: string): Command {
  return new Command(name)
    .description("Add names to an image")
    .argument("<image>", "source image")
    .argument("<target...>", "new names")
    .action((source: string, targets: string[]) =>
      tagImage(userEngine(), source, targets)
    );
}

function rmiCommand(name: string): Command {
  return new Command(name)
    .description("Remove images")
    .argument("[images...]", "image names or ids")
    .option("-a, --all", "remove every image")
    .option("-f, --force", "remove even if containers use it or it has tags")
    .action(
      async (refs: string[], f: { all?: boolean; force?: boolean }) => {
        await withPolicy(REMOVAL, () =>
          removeImages(userEngine(), refs, {
            ...f,
            onRemoved: (r) =>
              console.log(
                r.kind === "untagged"
                  ? `Untagged: ${r.name}`
                  : `Deleted: sha256:${r.id}`,
              ),
          }));
      },
    );
}

function inspectCommand(): Command {
  return new Command("inspect")
    .description("Show details of images")
    .argument("<images...>", "image names or ids")
    .option("-f, --format <format>", "a Go template")
    .action((refs: string[], f: { format?: string }) => {
      const e = userEngine();
      const docs = refs.map((r) => inspectImageRef(e, r));
      if (f.format) printFormatted(f.format, docs);
      else console.log(JSON.stringify(docs, null, 4));
    });
}

function historyCommand(): Command {
  return new Command("history")
    .description("Show the history of an image")
    .argument("<image>", "image name or id")
    .option("-q, --quiet", "show only ids")
    .option("--no-trunc", "do not truncate the output")
    .option(
      "-H, --human [bool]",
      "human-readable sizes and dates",
      (v: string) => v !== "false",
      true,
    )
    .option("--format <format>", "json or a Go template")
    .action(
      (
        ref: string,
        f: { quiet?: boolean; trunc: boolean; human: boolean; format?: string },
      ) => {
        const rows = imageHistory(userEngine(), ref);
        if (f.quiet) {
          for (const r of rows) console.log(r.ID);
          return;
        }
        if (f.format) {
          printFormatted(f.format, rows);
          return;
        }
        const by = (s: string) =>
          !f.trunc || s.length <= 45 ? s : `${s.slice(0, 44)}…`;
        console.log(table([
          ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
          ...rows.map((r) => [
            r.ID,
            !r.CreatedAt ? "" : f.human ? ago(r.CreatedAt) : r.CreatedAt,
            by(r.CreatedBy),
            f.human ? humanSize(r.Size) : String(r.Size),
            r.Comment,
          ]),
        ]));
      },
    );
}

function pruneCommand(): Command {
  return new Command("prune")
    .description("Remove unused images, blobs and layers")
    .option(
      "-a, --all",
      "remove every image no container uses, not only untagged ones",
    )
    .option(
      "--external",
      "remove images even when external containers use them (ptd has none)",
    )
    .option(
      "--filter <filter>",
      "only the images these select (label=KEY=VALUE, until=TIME, ...)",
      collect,
      [],
    )
    .option("-f, --force", "do not ask for confirmation")
    .action(async (f: { all?: boolean; force?: boolean; filter: string[] }) => {
      const warning = f.all
        ? "WARNING! This command removes all images without at least one container associated with them."
        : "WARNING! This command removes all dangling images.";
      if (!f.force && !askToContinue(warning)) return;
      const removed = await pruneImages(userEngine(), !!f.all, f.filter);
      for (const id of removed) console.log(id);
    });
}

/** Top-level image commands and the `image` group. */
export function imageCommands(setCode: (code: number) => void): Command[] {
  const group = new Command("image").description("Manage images");
  for (
    const c of [
      imagesCommand("ls").alias("list"),
      inspectCommand(),
      pruneCommand(),
      rmiCommand("rm"),
      tagCommand("tag"),
      historyCommand(),
      pullCommand(setCode),
      pushCommand(setCode),
    ]
  ) group.addCommand(c);
  return [
    group,
    imagesCommand("images"),
    tagCommand("tag"),
    rmiCommand("rmi"),
    historyCommand(),
  ];
}
