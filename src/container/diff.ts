/**
 * `diff`: what an overlay upper dir changes over the layers below it, in
 * Podman's terms (A added, C changed, D deleted), paths sorted. The upper
 * dir is a container's, or an image's top layer over its parents.
 */
import {
  OPAQUE_WHITEOUT,
  upperChanges,
  WHITEOUT_PREFIX,
} from "../storage/overlay_upper.ts";

/** One change, as `diff` prints it. */
export interface Change {
  kind: "A" | "C" | "D";
  path: string;
}

function existsBelow(lowers: string[], path: string): boolean {
  return lowers.some((l) => {
    try {
      Deno.lstatSync(`${l.replace(/\/+$/, "")}${path}`);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * What every container's start puts in its upper dir (mount points, the
 * files ptd writes): Podman's list, left out of a container's diff.
 */
const INIT_PATHS = new Set([
  "/dev",
  "/etc/hostname",
  "/etc/hosts",
  "/etc/resolv.conf",
  "/proc",
  "/run",
  "/run/notify",
  "/run/.containerenv",
  "/run/secrets",
  "/sys",
  "/etc/mtab",
]);

/** Whether `path` is one of those, which a container's diff leaves out. */
export const isInitPath = (path: string) => INIT_PATHS.has(path);

/** A container's changes: its upper dir over its layers (top first). */
export function containerChanges(upper: string, lowers: string[]): Change[] {
  return overlayChanges(upper, lowers).filter((c) => !isInitPath(c.path));
}

/** The changes of `upper` over `lowers` (top first). */
export function overlayChanges(upper: string, lowers: string[]): Change[] {
  const out: Change[] = [];
  for (const c of upperChanges(upper)) {
    if (c.kind === "opaque") continue;
    const parts = `/${c.path}`.split("/");
    const last = parts.pop()!;
    if (c.kind === "whiteout" && last !== OPAQUE_WHITEOUT) {
      const path = [...parts, last.slice(WHITEOUT_PREFIX.length)].join("/");
      out.push({ kind: "D", path });
      continue;
    }
    const path = `/${c.path}`;
    out.push({ kind: existsBelow(lowers, path) ? "C" : "A", path });
  }
  return out.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
