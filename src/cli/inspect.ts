/**
 * `inspect` of containers, images and volumes (`--type`), and `container
 * inspect`, which knows containers only. A hot command: it loads only the
 * read side of each area.
 */
import { checkInspectType, inspectObject } from "../engine/objects.ts";
import { PtdError } from "../runtime/errors.ts";
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
      ...(type ? [] : [{
        flags: "-t, --type <type>",
        description: "Specify inspect-object type (container, image, volume)",
        default: "all",
      }]),
    ],
    args: [["<names...>"]],
    action: async (
      refs: string[],
      f: { format?: string; type?: string; size?: boolean },
    ) => {
      const kind = checkInspectType(type ?? f.type ?? "all");
      const docs: unknown[] = [];
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

/** `inspect`, the hot command. */
export const specs: CommandSpec[] = [inspectSpec("inspect")];
