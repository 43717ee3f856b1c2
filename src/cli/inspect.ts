/**
 * `inspect` of containers, images and volumes (`--type`), and `container
 * inspect`, which knows containers only. A hot command: it loads only the
 * read side of each area.
 */
import { checkInspectType, inspectObject } from "../engine/objects.ts";
import { invalid, isKind, notFound, PtdError } from "../runtime/errors.ts";
import { userEngine } from "../engine/engine.ts";
import { latestContainer } from "../engine/selection.ts";
import { printInspect } from "./format.ts";
import type { CommandSpec } from "./spec.ts";
import { eachRef } from "./targets.ts";

/** An inspect command named `name`; `type` fixed, or chosen by --type. */
export function inspectSpec(name: string, type?: "container"): CommandSpec {
  return {
    name,
    description: type
      ? "Display the configuration of a container"
      : "Display the configuration of object denoted by ID",
    options: [
      { flags: "-f, --format <format>", description: "a Go template" },
      {
        flags: "-s, --size",
        description: "display total file size (containers)",
      },
      {
        flags: "-l, --latest",
        description: "act on the latest container ptd is aware of",
      },
      ...(type ? [] : [{
        flags: "-t, --type <type>",
        description: "Specify inspect-object type (container, image, volume)",
        default: "all",
      }]),
    ],
    args: [["<names...>"]],
    latest: true,
    action: async (
      refs: string[],
      f: { format?: string; type?: string; size?: boolean; latest?: boolean },
    ) => {
      const kind = checkInspectType(type ?? f.type ?? "all");
      const docs: unknown[] = [];
      if (f.latest) refs = await latestRefs(kind, refs, f.format);
      const code = await eachRef(refs, async (e, ref) => {
        try {
          docs.push(await inspectObject(e, kind, ref, !!f.size));
        } catch (err) {
          if (!(err instanceof PtdError) || err.kind !== "not-found") throw err;
          throw new PtdError(err.kind, `inspecting object: ${err.message}`);
        }
      });
      await printInspect(f.format, docs);
      return code;
    },
  };
}

/**
 * What --latest names: the newest container, alone. With none, Podman
 * prints an empty list before it says so.
 */
async function latestRefs(
  kind: string,
  refs: string[],
  format: string | undefined,
): Promise<string[]> {
  if (refs.length > 0) {
    throw invalid("--latest and arguments cannot be used together");
  }
  if (kind !== "all" && kind !== "container") {
    throw invalid(`latest is not supported for type "${kind}"`);
  }
  try {
    return [(await latestContainer(userEngine())).id];
  } catch (err) {
    if (!isKind(err, "not-found")) throw err;
    await printInspect(format, []);
    throw notFound(
      "inspecting object: no containers to inspect: no such container",
    );
  }
}

/** `inspect`, the hot command. */
export const specs: CommandSpec[] = [inspectSpec("inspect")];
