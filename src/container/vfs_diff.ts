/**
 * `diff` and the written size of a vfs container. Its root is a whole copy
 * of the layers with no record of what changed, so, as Podman's naive
 * differ does, the copy is compared with the image's merged layers: a path
 * only in the copy is added (A, with everything under it), one only in the
 * image deleted (D, only the top of it), one whose type, mode, owner,
 * device, or (for a non-directory) size or modification time differ is
 * changed (C), and so is every directory holding a change.
 */
import { isOpaque, isWhiteout } from "../storage/overlay_upper.ts";
import { type Change, isInitPath } from "./diff.ts";

/** path ("/etc/passwd") to its lstat, of a tree or a merged view. */
type Tree = Map<string, Deno.FileInfo>;

/** Reads `dir` into `into` under `prefix`; `layer`: apply overlay markers. */
function readTree(dir: string, into: Tree, prefix = "", layer = false) {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return; // a directory of a subordinate id this user cannot read
  }
  for (const name of names) {
    const path = `${prefix}/${name}`;
    let info;
    try {
      info = Deno.lstatSync(`${dir}/${name}`);
    } catch {
      continue;
    }
    if (layer) {
      // What this layer puts over a directory below hides its content.
      const opaque = info.isDirectory && isOpaque(`${dir}/${name}`);
      if (into.get(path)?.isDirectory && (opaque || !info.isDirectory)) {
        for (const p of into.keys()) {
          if (p.startsWith(`${path}/`)) into.delete(p);
        }
      }
      if (isWhiteout(info)) {
        into.delete(path);
        continue;
      }
    }
    into.set(path, info);
    if (info.isDirectory) readTree(`${dir}/${name}`, into, path, layer);
  }
}

/** The merged view of `layers` (top first), as overlay shows it. */
function mergedLayers(layers: string[]): Tree {
  const tree: Tree = new Map();
  for (const l of [...layers].reverse()) readTree(l, tree, "", true);
  return tree;
}

/** Podman's statDifferent: directories by mode, owner and device only. */
function differs(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  if (
    a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid ||
    a.rdev !== b.rdev
  ) return true;
  if (a.isDirectory) return false;
  return a.size !== b.size || a.mtime?.getTime() !== b.mtime?.getTime();
}

const parentOf = (path: string) => path.slice(0, path.lastIndexOf("/"));

/** The changes of the vfs root `root` over `layers` (top first), sorted. */
export function vfsChanges(root: string, layers: string[]): Change[] {
  const image = mergedLayers(layers);
  const copy: Tree = new Map();
  readTree(root, copy);
  const kinds = new Map<string, Change["kind"]>();
  const changed = (path: string, kind: Change["kind"]) => {
    if (isInitPath(path)) return;
    kinds.set(path, kind);
    // A directory holding a change is changed too (when it was there).
    for (let p = parentOf(path); p !== ""; p = parentOf(p)) {
      if (kinds.has(p) || !image.has(p)) break;
      kinds.set(p, "C");
    }
  };
  for (const [path, info] of copy) {
    const was = image.get(path);
    if (!was) changed(path, "A");
    else if (differs(was, info)) changed(path, "C");
  }
  for (const path of image.keys()) {
    const parent = parentOf(path);
    if (!copy.has(path) && (parent === "" || copy.has(parent))) {
      changed(path, "D");
    }
  }
  return [...kinds].map(([path, kind]) => ({ kind, path }))
    .sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/**
 * Bytes the container wrote to its vfs root: the sizes of the files added
 * or changed (a hard link counted once), as Podman counts a vfs layer.
 */
export function vfsWrittenSize(root: string, layers: string[]): number {
  const seen = new Set<string>();
  let total = 0;
  for (const c of vfsChanges(root, layers)) {
    if (c.kind === "D") continue;
    try {
      const info = Deno.lstatSync(`${root}${c.path}`);
      if (info.isDirectory) continue;
      const key = `${info.dev}:${info.ino}`;
      if (info.nlink! > 1 && seen.has(key)) continue;
      seen.add(key);
      total += info.size;
    } catch { /* gone meanwhile */ }
  }
  return total;
}
