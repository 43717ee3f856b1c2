/** `diff` and `export`: a container's (or image's) file system, as Podman. */
import { Command } from "commander";
import { userEngine } from "../engine/engine.ts";
import { diffObject, exportContainer } from "../engine/changes.ts";
import { invalid, notFound } from "../runtime/errors.ts";
import { latestContainer } from "../engine/selection.ts";

/** The `diff` command; `container diff` or `image diff` with `only`. */
export function diffCommand(only?: "container" | "image"): Command {
  return new Command("diff")
    .description(
      only
        ? `Inspect changes to the ${only}'s file systems`
        : "Display the changes to the object's file system",
    )
    .argument(only ? `[${only}]` : "[container|image]", "name or id")
    .option("--format <format>", "change the output format (json)")
    .option("-l, --latest", "act on the latest container ptd is aware of")
    .action(async (
      ref: string | undefined,
      f: { format?: string; latest?: boolean },
      cmd: Command,
    ) => {
      if (ref === undefined && !f.latest) {
        cmd.error("", { code: "commander.missingArgument" });
      }
      if (ref !== undefined && f.latest) {
        throw invalid("--latest and containers cannot be used together");
      }
      if (f.format !== undefined && f.format !== "json") {
        throw invalid("only supported value for '--format' is 'json'");
      }
      const e = userEngine();
      if (f.latest) {
        ref = (await latestContainer(e).catch((err) => {
          throw notFound(`unable to get latest container: ${err.message}`);
        })).id;
      }
      const changes = diffObject(e, ref!, only);
      if (f.format === undefined) {
        for (const c of changes) console.log(`${c.kind} ${c.path}`);
        return;
      }
      // Podman's keys, each only when it has paths; its 5-space indent.
      const doc: Record<string, string[]> = {};
      const keys = { C: "changed", A: "added", D: "deleted" } as const;
      for (const k of ["C", "A", "D"] as const) {
        const paths = changes.filter((c) => c.kind === k).map((c) => c.path);
        if (paths.length > 0) doc[keys[k]] = paths;
      }
      console.log(JSON.stringify(doc, null, 5));
    });
}

/** The `export` command. */
export function exportCommand(): Command {
  return new Command("export")
    .description("Export a container's filesystem contents as a tar archive")
    .argument("<container>", "name or id")
    .option("-o, --output <file>", "write to a file, not stdout")
    .action(async (ref: string, f: { output?: string }) => {
      if (f.output === undefined && Deno.stdout.isTerminal()) {
        throw invalid(
          "refusing to export to terminal. Use -o flag or redirect",
        );
      }
      if (f.output === undefined) {
        return await exportContainer(userEngine(), ref, Deno.stdout);
      }
      const tmp = `${f.output}.tmp-${crypto.randomUUID().slice(0, 8)}`;
      const file = await Deno.open(tmp, { write: true, createNew: true });
      try {
        await exportContainer(userEngine(), ref, file);
        file.close();
        await Deno.rename(tmp, f.output);
      } catch (e) {
        try {
          file.close();
        } catch { /* closed */ }
        await Deno.remove(tmp).catch(() => {});
        throw e;
      }
    });
}
