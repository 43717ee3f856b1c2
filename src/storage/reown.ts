/**
 * Re-owned copies of an image's files, for a container whose user namespace
 * maps ids otherwise than the user's own map the layers were unpacked with
 * (--userns nomap, auto, keep-id, --uidmap/--gidmap): in such a namespace
 * the stored owners would be the wrong users, or nobody. Podman's vfs driver
 * does the same (a chowned copy of the image per mapping), and it is the one
 * way that works on every kernel here: idmapped mounts need a file system
 * and kernel that allow them from a user namespace, and fuse-overlayfs's
 * uidmapping= shifts owners only as seen through its own mount.
 *
 * A copy sits beside the top layer it was made from (`<layer>.reowned-<maps
 * digest>`), so the layer collector removes it with that layer, and is built
 * under a `.tmp-<pid>` name and renamed into place: a killed build leaves
 * only a temp, which the next build removes once its process is gone.
 */
import { runInUserNamespace } from "../runtime/userns.ts";
import { type IdRange, toHost } from "../runtime/idmap.ts";
import * as fs from "../../ffi/fs.ts";
import { REOWNED } from "./paths.ts";
import { removeTrees } from "./remove.ts";
import { pidExists } from "../runtime/pids.ts";

/** The hidden subcommand `ptd storage-reown shift|root MAPS PATH...`. */
export const REOWN_COMMAND = "storage-reown";

/** uid and gid ranges over the user's id space (0 the user itself). */
export type OwnerMaps = { uid: IdRange[]; gid: IdRange[] };

/**
 * Where an owner the namespace does not map goes: the overflow id, which a
 * container sees as nobody (Podman's choice too).
 */
const OVERFLOW = 65534;

const TEMP = ".tmp-";

/** The path of `layer`'s copy for `maps`. */
export async function copyPath(
  layer: string,
  maps: OwnerMaps,
): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(maps));
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(
    sum.slice(0, 8),
    (b) => b.toString(16).padStart(2, "0"),
  );
  return `${layer.replace(/\/+$/, "")}${REOWNED}${hex.join("")}`;
}

/** A temp name for building `final` in this process. */
export function tempFor(final: string): string {
  return `${final}${TEMP}${Deno.pid}`;
}

/** Removes the temps of copies in `dir` whose builders are gone. */
export async function sweepTemps(dir: string): Promise<void> {
  const dead: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      const m = e.name.match(/\.tmp-(\d+)$/);
      if (m && e.name.includes(REOWNED) && !pidExists(Number(m[1]))) {
        dead.push(`${dir}/${e.name}`);
      }
    }
  } catch { /* no directory yet */ }
  if (dead.length > 0) await removeTrees(dead);
}

/** The stored owner `id` as `ranges` make it. */
function shifted(ranges: IdRange[], id: number): number {
  return toHost(ranges, id) ?? OVERFLOW;
}

function fileCaps(path: string): Uint8Array | undefined {
  try {
    return fs.lgetxattrBytes(path, "security.capability");
  } catch {
    return undefined; // no xattrs on this file system
  }
}

/**
 * Gives every entry under `path` (itself included, symlinks never
 * followed) the owner `maps` make of its stored one. chown clears setuid,
 * setgid and file capabilities: those are put back. A file with several
 * names is shifted once.
 */
function reownTree(path: string, maps: OwnerMaps, seen: Set<string>) {
  const st = Deno.lstatSync(path);
  if (st.nlink! > 1 && !st.isDirectory) {
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
  }
  if (st.isDirectory) {
    for (const e of Deno.readDirSync(path)) {
      reownTree(`${path}/${e.name}`, maps, seen);
    }
  }
  const caps = st.isFile && st.mode! & 0o111 ? fileCaps(path) : undefined;
  fs.lchownat(
    fs.AT_FDCWD,
    path,
    shifted(maps.uid, st.uid!),
    shifted(maps.gid, st.gid!),
  );
  if (st.isSymlink) return;
  if (st.mode! & 0o6000) Deno.chmodSync(path, st.mode! & 0o7777);
  if (caps !== undefined) fs.lsetxattr(path, "security.capability", caps);
}

/**
 * Entry of `ptd storage-reown shift|root MAPS PATH...` (run inside the user
 * namespace): shift re-owns the trees at PATH (reownTree); root gives each
 * PATH itself to the container's root, which may be done again.
 */
export function reownMain(args: string[]): number {
  const [op, json, ...paths] = args;
  try {
    const maps = JSON.parse(json) as OwnerMaps;
    for (const p of paths) {
      if (op === "shift") reownTree(p, maps, new Set());
      else {
        fs.lchownat(fs.AT_FDCWD, p, shifted(maps.uid, 0), shifted(maps.gid, 0));
      }
    }
    return 0;
  } catch (e) {
    console.error(`Error: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}

/**
 * Re-owns the trees at `paths` for `maps` ("shift"), or gives the paths
 * themselves to the container's root ("root"), as root of a user namespace
 * with the user's maps (the only place a rootless user may chown to its
 * subordinate ids).
 */
export async function reownTrees(
  op: "shift" | "root",
  maps: OwnerMaps,
  paths: string[],
): Promise<void> {
  const code = await runInUserNamespace([
    REOWN_COMMAND,
    op,
    JSON.stringify(maps),
    ...paths,
  ]);
  if (code !== 0) throw new Error(`cannot re-own ${paths.join(", ")}`);
}
