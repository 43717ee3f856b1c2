/**
 * Image commands: `images`, `tag`, `rmi`, `history` and the `image` group
 * (`ls`, `inspect`, `prune`, `rm`, `tag`, `pull`, `push`, `history`):
 * parsing, one call of src/engine/images.ts, printing.
 */
import { Command } from "commander";
import {
  type HistoryRow,
  historyView,
  type ImageRow,
  imageView,
} from "../image/present.ts";
import { userEngine } from "../engine/engine.ts";
import {
  imageHistory,
  inspectImageRef,
  listImages,
  pruneImages,
  removeImages,
  tagImage,
  untagImage,
} from "../engine/images.ts";
import {
  headers,
  isJson,
  printInspect,
  printJson,
  printReport,
  type Report,
  table,
} from "./format.ts";
import { pullCommand, pushCommand } from "./pull.ts";
import { askToContinue } from "./confirm.ts";
import { collect } from "./options.ts";
import { REMOVAL, withPolicy } from "./targets.ts";

/** `images` table headers: Podman's, from imageReporter's fields. */
const IMAGE_HEADERS = headers(
  "Repository Tag Containers Created Dangling Digest History ID Labels " +
    "Names ParentId ReadOnly RepoDigests RepoTags SharedSize Size " +
    "VirtualSize",
  { ID: "image id", ReadOnly: "r/o" },
);

/** The columns of Podman's default `images` table. */
const IMAGE_COLUMNS = ["Repository", "Tag", "ID", "Created", "Size"];

function imagesReport(noTrunc: boolean): Report<ImageRow> {
  return {
    name: "images",
    indent: "    ",
    headers: IMAGE_HEADERS,
    view: (r) => imageView(r, noTrunc),
  };
}

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
    .option("--history", "show the names each image has had")
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
          history?: boolean;
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
          filters: f.filter,
          sort: f.sort,
          all: f.all,
        });
        const noTrunc = !f.trunc;
        const id = (r: ImageRow) =>
          noTrunc ? `sha256:${r.image.Id}` : r.image.Id.slice(0, 12);
        if (f.quiet) {
          for (const i of new Set(rows.map(id))) console.log(i);
          return;
        }
        if (f.format !== undefined) {
          // JSON lists each image once; a template sees one row per name.
          const report = imagesReport(noTrunc);
          return isJson(f.format)
            ? printJson([...new Set(rows.map((r) => r.image))], report)
            : printReport(f.format, rows, report, f.noheading);
        }
        const columns = [
          ...IMAGE_COLUMNS.slice(0, 2),
          ...(f.digests ? ["Digest"] : []),
          ...IMAGE_COLUMNS.slice(2),
          ...(f.history ? ["History"] : []),
        ];
        const views = rows.map((r) => imageView(r, noTrunc));
        const body = views.map((v) => columns.map((c) => String(v[c])));
        const out = table(
          f.noheading ? body : [columns.map((c) => IMAGE_HEADERS[c]), ...body],
        );
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

/** `untag IMAGE [NAME...]`: names off an image, all of them without NAME. */
function untagCommand(): Command {
  return new Command("untag")
    .description("Remove a name from a local image")
    .argument("<image>", "image name or id")
    .argument("[names...]", "names to remove (default: all)")
    .action((source: string, names: string[]) =>
      untagImage(userEngine(), source, names)
    );
}

function rmiCommand(name: string): Command {
  return new Command(name)
    .description("Remove images")
    .argument("[images...]", "image names or ids")
    .option("-a, --all", "remove every image")
    .option("-f, --force", "remove even if containers use it or it has tags")
    .option("-i, --ignore", "ignore errors if a specified image does not exist")
    .option("--no-prune", "accepted: ptd keeps no untagged parents to prune")
    .action(
      async (
        refs: string[],
        f: { all?: boolean; force?: boolean; ignore?: boolean },
      ) => {
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
      return printInspect(f.format, refs.map((r) => inspectImageRef(e, r)));
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
        const o = { noTrunc: !f.trunc, human: f.human };
        if (f.quiet) {
          for (const r of rows) console.log(historyView(r, o).ID);
          return;
        }
        const report: Report<HistoryRow> = {
          name: "history",
          indent: "",
          headers: HISTORY_HEADERS,
          view: (r) => historyView(r, o),
        };
        if (f.format !== undefined) return printReport(f.format, rows, report);
        const columns = ["ID", "Created", "CreatedBy", "Size", "Comment"];
        console.log(table([
          columns.map((c) => HISTORY_HEADERS[c]),
          ...rows.map((r) => historyView(r, o)).map((v) =>
            columns.map((c) => String(v[c]))
          ),
        ]));
      },
    );
}

/** `history` table headers: Podman's, from historyReporter's fields. */
const HISTORY_HEADERS = headers("ID Created CreatedBy Size Comment Tags");

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
      untagCommand(),
      historyCommand(),
      pullCommand(setCode),
      pushCommand(setCode),
    ]
  ) group.addCommand(c);
  return [
    group,
    imagesCommand("images"),
    tagCommand("tag"),
    untagCommand(),
    rmiCommand("rmi"),
    historyCommand(),
  ];
}
