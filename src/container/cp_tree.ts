/**
 * The two halves of `cp` and `export`, each run where the files are: a tree
 * read into a tar stream, and a tar stream written out at a destination, as
 * Podman lands it (into a directory, under a new name, or the content of a
 * directory with a trailing `/.`). Paths are resolved by the kernel inside
 * a root fd (openat2 RESOLVE_IN_ROOT: a container's root, or the host's
 * "/"), so `..` and symlinks, absolute or not, never lead out of it; below
 * the resolved path nothing is followed.
 */
import { Buffer } from "node:buffer";
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { SysError } from "../../ffi/errno.ts";
import * as fs from "../../ffi/fs.ts";
import { LayerWriter, type TreeOptions } from "../image/layer_writer.ts";
import { type TarHeader, TarReader } from "../image/tar_reader.ts";
import { invalid, notFound } from "../runtime/errors.ts";

const IN_ROOT = fs.RESOLVE_IN_ROOT | fs.RESOLVE_NO_MAGICLINKS;
const PATH = fs.O_PATH;
const fdPath = (fd: number, name?: string) =>
  name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;

/** `path` relative to the root it is resolved in ("/" is "."). */
const rel = (path: string) => path.replace(/^\/+/, "") || ".";

/** The path with its trailing "/." (content of a directory) taken off. */
function contentOf(path: string): string | undefined {
  return /(^|\/)\.\/*$/.test(path)
    ? path.replace(/\/?\.\/*$/, "") || "/"
    : undefined;
}

const isErrno = (e: unknown, code: string) =>
  e instanceof SysError && e.code === code;

/** Where bytes of a tar go. */
export interface ByteSink {
  write(p: Uint8Array): Promise<number>;
}

/** Writes all of `chunk` to `sink`. */
export async function writeAll(
  sink: ByteSink,
  chunk: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < chunk.length) off += await sink.write(chunk.subarray(off));
}

/** Options of `packTree`. */
export interface PackOptions {
  /** Says where `path` was looked for, in a not-found error. */
  where: string;
  /**
   * The whole tree as `export` writes it: no entry for the top directory
   * itself, directory names ending in "/".
   */
  whole?: boolean;
}

/**
 * Writes the tree at `path` (resolved inside `root`, a final symlink
 * followed as Podman does) to `sink` as a tar whose top entry is named
 * after what was found, or "." for a directory's content (`DIR/.`).
 */
export async function packTree(
  root: number,
  path: string,
  sink: ByteSink,
  opts: PackOptions,
): Promise<void> {
  const content = contentOf(path);
  let top: number;
  try {
    top = fs.openat2(root, rel(content ?? path), PATH, IN_ROOT);
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR")) {
      throw notFound(
        `"${path}" could not be found on ${opts.where}: no such file or directory`,
      );
    }
    throw e;
  }
  const pack = tar.pack();
  const done = (async () => {
    for await (const chunk of pack) await writeAll(sink, chunk as Uint8Array);
  })();
  done.catch(() => {});
  const links = new Map<string, string>();
  const header = (name: string, st: Deno.FileInfo) => ({
    name,
    mode: st.mode! & 0o7777,
    uid: st.uid!,
    gid: st.gid!,
    mtime: st.mtime ?? new Date(0),
  });
  const entry = (h: Partial<tar.Header>, body?: Buffer) =>
    new Promise<void>((ok, fail) => {
      pack.entry(
        h as tar.Header,
        body ?? Buffer.alloc(0),
        (e) => e ? fail(e) : ok(),
      );
    });
  const file = async (name: string, st: Deno.FileInfo, fd: number) => {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink! > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      return await entry({
        ...header(name, st),
        type: "link",
        linkname: first,
      });
    }
    links.set(key, name);
    await new Promise<void>((ok, fail) => {
      const out = pack.entry(
        { ...header(name, st), size: st.size } as tar.Header,
        (e) => e ? fail(e) : ok(),
      );
      const src = createReadStream(fdPath(fd));
      src.on("error", fail);
      src.pipe(out as unknown as NodeJS.WritableStream);
    });
  };
  // `fd` is an O_PATH fd of the node itself; `name` its entry name.
  const node = async (fd: number, name: string, st: Deno.FileInfo) => {
    if (st.isDirectory) {
      if (!opts.whole) await entry({ ...header(name, st), type: "directory" });
      else if (name !== ".") {
        await entry({ ...header(`${name}/`, st), type: "directory" });
      }
      const names = [...Deno.readDirSync(fdPath(fd))].map((e) => e.name)
        .sort();
      for (const n of names) {
        const child = name === "." ? n : `${name}/${n}`;
        const cst = Deno.lstatSync(fdPath(fd, n));
        if (cst.isSymlink) {
          await entry({
            ...header(child, cst),
            type: "symlink",
            linkname: Deno.readLinkSync(fdPath(fd, n)),
          });
          continue;
        }
        if (!cst.isDirectory && !cst.isFile) continue; // devices, fifos
        const cfd = fs.openat(fd, n, PATH | fs.O_NOFOLLOW);
        try {
          await node(cfd, child, cst);
        } finally {
          fs.close(cfd);
        }
      }
    } else if (st.isFile) {
      await file(name, st, fd);
    }
  };
  try {
    const st = Deno.statSync(fdPath(top));
    const rootSt = Deno.statSync(fdPath(root));
    // The root itself has no name of its own (its host path is ours).
    const isRoot = st.dev === rootSt.dev && st.ino === rootSt.ino;
    const name = opts.whole || isRoot ||
        (content !== undefined && st.isDirectory)
      ? "."
      : Deno.readLinkSync(fdPath(top)).split("/").pop() || ".";
    await node(top, name, st);
    pack.finalize();
    await done;
  } finally {
    fs.close(top);
  }
}

/** Where `landTree` puts what a tar holds. */
export interface LandOptions extends TreeOptions {
  /** The tar comes from the user (`cp - CTR:DIR`): DIR must be one. */
  stdin: boolean;
  /** Says where `dest` was looked for, in a not-found error. */
  where: string;
  /** `dest` as the user gave it, for errors. */
  shown?: string;
}

/** An O_PATH fd of `path` inside `root`, or undefined when it is missing. */
function lookup(root: number, path: string): number | undefined {
  try {
    return fs.openat2(root, rel(path), PATH, IN_ROOT);
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR")) return undefined;
    throw e;
  }
}

const isDir = (fd: number) => Deno.statSync(fdPath(fd)).isDirectory;

/**
 * Chooses where the tree whose top entry is `top` lands for `dest`: the
 * directory to write in and the name its top entry takes there.
 */
function landing(
  root: number,
  dest: string,
  top: TarHeader,
  opts: LandOptions,
): { dir: number; name?: string } {
  const missing = (p: string) =>
    notFound(
      `"${
        opts.shown ?? p
      }" could not be found on ${opts.where}: no such file or directory`,
    );
  const at = lookup(root, dest);
  if (at !== undefined && isDir(at)) {
    // Into the directory; a directory's content (".") straight in.
    return { dir: at };
  }
  if (opts.stdin) {
    if (at !== undefined) fs.close(at);
    throw invalid("destination must be a directory when copying from stdin");
  }
  if (at !== undefined) {
    fs.close(at);
    if (top.type === "directory") {
      throw invalid("destination must be a directory when copying a directory");
    }
  } else if (dest.endsWith("/")) throw missing(dest);
  const clean = dest.replace(/\/+$/, "");
  const i = clean.lastIndexOf("/");
  const parent = lookup(root, i <= 0 ? "/" : clean.slice(0, i));
  if (parent === undefined || !isDir(parent)) {
    if (parent !== undefined) fs.close(parent);
    throw missing(dest);
  }
  return { dir: parent, name: clean.slice(i + 1) };
}

/**
 * Entry names under the new name `top`: the tar's first entry (named
 * `first`) becomes `top`, and with it the path of everything below it.
 */
function renamer(first: string, top: string): (name: string) => string {
  const strip = (n: string) => n.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  const content = strip(first) === "." || strip(first) === "";
  return (n) => {
    const s = strip(n);
    if (s === "." || s === "") return top;
    if (content) return `${top}/${s}`;
    const i = s.indexOf("/");
    return i < 0 ? top : top + s.slice(i);
  };
}

/**
 * Writes the tar `source` at `dest` inside `root` as Podman's cp does:
 * into an existing directory, else under the new name `dest` (its parent
 * must exist); a directory never replaces a file.
 */
export async function landTree(
  source: Readable,
  root: number,
  dest: string,
  opts: LandOptions,
): Promise<void> {
  let writer: LayerWriter | undefined;
  let dir = -1;
  let rename: ((n: string) => string) | undefined;
  const reader = new TarReader({
    entry(h) {
      if (writer === undefined) {
        const land = landing(root, dest, h, opts);
        dir = land.dir;
        writer = new LayerWriter(dir, opts.userns, opts);
        if (land.name !== undefined) rename = renamer(h.name, land.name);
      }
      const name = rename ? rename(h.name) : h.name;
      // A directory's content into one that exists: that directory keeps
      // its own owner and mode, as in Podman.
      if (/^(\.\/?)*$/.test(name)) return;
      const linkname = h.type === "link" && rename
        ? rename(h.linkname)
        : h.linkname;
      writer.entry({ ...h, name, linkname });
    },
    data: (chunk) => writer?.data(chunk),
    end: () => writer?.end(),
  });
  try {
    for await (const chunk of source) reader.write(chunk as Uint8Array);
    reader.finish();
    writer?.finish();
  } finally {
    writer?.close();
    if (dir >= 0) fs.close(dir);
  }
}
