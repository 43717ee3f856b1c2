/**
 * Filling an empty volume from the image (Docker's behaviour): the content at
 * the mount path is copied in with owners, modes and times kept. Rootless,
 * the copy runs as root of a user namespace with the user's maps, the only
 * place where chown to subordinate ids works and every layer file is
 * readable.
 *
 * The path comes from the image or the user and the layers are image
 * content: no component of the path may be a symlink in any layer (it could
 * lead out to the host), and nothing inside the tree is ever followed.
 */
import { runInUserNamespace } from "../runtime/userns.ts";
import * as fs from "../../ffi/fs.ts";
import {
  isOpaque,
  isOverlayXattr,
  isWhiteout,
} from "../storage/overlay_upper.ts";

/** The hidden subcommand `ptd volume-copy DST PATH LAYER...` (layers top first). */
export const COPY_COMMAND = "volume-copy";

/** `<layer><path>` when it is a real directory reached without symlinks. */
function layerDir(layer: string, path: string): string | undefined {
  let cur = layer.replace(/\/+$/, ""); // a layer of "/" (--rootfs /)
  for (const part of path.split("/").filter((p) => p !== "")) {
    cur = `${cur}/${part}`;
    try {
      const st = Deno.lstatSync(cur);
      if (!st.isDirectory) return undefined;
    } catch {
      return undefined;
    }
  }
  return cur;
}

/**
 * The xattrs of `src` onto `dst` (after chown, which clears file
 * capabilities), but never overlay's own: what this copy means is already
 * applied. One the copier may not read or set here (trusted.*) is left.
 */
function copyXattrs(src: string, dst: string) {
  let names: string[] = [];
  try {
    names = fs.llistxattr(src);
  } catch { /* no xattr support */ }
  for (const name of names.filter((n) => !isOverlayXattr(n))) {
    try {
      const value = fs.lgetxattrBytes(src, name);
      if (value !== undefined) fs.lsetxattr(dst, name, value);
    } catch { /* not ours to read or set */ }
  }
}

/** Keeps owner, mode, xattrs and times; an id outside the maps keeps ours. */
function copyMeta(src: string, dst: string, st: Deno.FileInfo) {
  try {
    Deno.chownSync(dst, st.uid, st.gid);
  } catch { /* unmapped owner (a host file seen as nobody) */ }
  Deno.chmodSync(dst, st.mode! & 0o7777);
  copyXattrs(src, dst);
  if (st.atime && st.mtime) Deno.utimeSync(dst, st.atime, st.mtime);
}

function clearDir(dir: string) {
  for (const e of Deno.readDirSync(dir)) removeEntry(`${dir}/${e.name}`);
}

function removeEntry(path: string) {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Runs `fn`; a permission error only adds `path` to `skipped`. */
function unlessDenied(path: string, skipped: string[], fn: () => void) {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    skipped.push(path);
  }
}

/** One layer's copy: what could not be read, the copies of linked files, its file system. */
interface LayerCopy {
  skipped: string[];
  /**
   * The layer's file system: a directory on another one is a mount point
   * (--rootfs /: /proc, /sys) and stays empty, as overlay shows it.
   */
  dev: number;
  /** Copied path by the source's "dev:ino", for files with several links. */
  links: Map<string, string>;
}

/** Links `to` to the copy of another name of the file `st`, if there is one. */
function linkCopied(c: LayerCopy, st: Deno.FileInfo, to: string): boolean {
  const first = c.links.get(`${st.dev}:${st.ino}`);
  if (first === undefined) return false;
  try {
    Deno.linkSync(first, to);
    return true;
  } catch {
    return false; // not linkable here: a copy of its own then
  }
}

/**
 * Copies the directory `src` onto `dst` (which exists), recursively; hard
 * links stay links. What the copier cannot read (a host file of an unmapped
 * owner, with --rootfs /) is listed in `skipped` instead of failing the
 * whole copy.
 */
function copyDir(src: string, dst: string, c: LayerCopy) {
  let entries: Deno.DirEntry[] = [];
  unlessDenied(src, c.skipped, () => (entries = [...Deno.readDirSync(src)]));
  for (const e of entries) {
    const from = `${src}/${e.name}`;
    const to = `${dst}/${e.name}`;
    const st = Deno.lstatSync(from);
    // A whiteout, or an opaque directory (below), hides what lower layers
    // have.
    if (isWhiteout(st)) {
      removeEntry(to);
    } else if (st.isDirectory) {
      let isDir = false;
      try {
        isDir = Deno.lstatSync(to).isDirectory;
      } catch { /* missing */ }
      if (!isDir) {
        removeEntry(to);
        Deno.mkdirSync(to);
      } else if (isOpaque(from)) {
        clearDir(to);
      }
      if (st.dev === c.dev) copyDir(from, to, c);
      copyMeta(from, to, st);
    } else if (st.isSymlink) {
      removeEntry(to);
      Deno.symlinkSync(Deno.readLinkSync(from), to);
      // The link's own owner and times (a vfs root is compared with its
      // layers); an owner outside the maps keeps ours.
      try {
        fs.lchownat(fs.AT_FDCWD, to, st.uid!, st.gid!);
      } catch { /* unmapped owner */ }
      if (st.atime && st.mtime) {
        const secs = (d: Date) => d.getTime() / 1000;
        fs.lutimensat(fs.AT_FDCWD, to, secs(st.atime), secs(st.mtime));
      }
    } else if (st.isFile) {
      removeEntry(to);
      if (st.nlink! > 1 && linkCopied(c, st, to)) continue;
      unlessDenied(from, c.skipped, () => {
        Deno.copyFileSync(from, to);
        copyMeta(from, to, st);
        if (st.nlink! > 1) c.links.set(`${st.dev}:${st.ino}`, to);
      });
    }
    // Devices, fifos and sockets cannot be made rootless; they are skipped.
  }
}

/**
 * Entry of `ptd volume-copy DST PATH LAYER...`: merges PATH of the layers,
 * bottom one first, into DST. Errors are one line, as everywhere in ptd.
 */
export function copyMain(args: string[]): number {
  const [dst, path, ...layers] = args;
  const skipped: string[] = [];
  try {
    for (const layer of [...layers].reverse()) {
      const src = layerDir(layer, path);
      if (src === undefined) continue;
      if (isOpaque(src)) clearDir(dst);
      const st = Deno.statSync(src);
      copyDir(src, dst, { skipped, links: new Map(), dev: st.dev });
      copyMeta(src, dst, st);
    }
  } catch (e) {
    console.error(`Error: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  if (skipped.length > 0) {
    console.error(
      `WARN: ${skipped.length} unreadable entries under ${path} were not copied into ${dst}, e.g. ${
        skipped[0]
      }`,
    );
  }
  return 0;
}

function isEmpty(dir: string): boolean {
  for (const _ of Deno.readDirSync(dir)) return false;
  return true;
}

/**
 * Fills the empty volume directory `dst` with what the image (its `layers`,
 * top first) has at `path`; a non-empty volume is left alone.
 */
export async function fillFromImage(
  dst: string,
  path: string,
  layers: string[],
): Promise<void> {
  if (!isEmpty(dst) || !layers.some((l) => layerDir(l, path))) return;
  const args = [dst, path, ...layers];
  const code = Deno.uid() === 0
    ? copyMain(args)
    : await runInUserNamespace([COPY_COMMAND, ...args]);
  if (code !== 0) throw new Error(`cannot copy ${path} into volume ${dst}`);
}
