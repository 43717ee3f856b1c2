/**
 * What a COPY or ADD puts in the image, as one tar whose entry names are
 * the final paths (relative to the image's root): written here from the
 * context, a heredoc, a download, a local archive or another image's
 * files, then landed at "/" in a container of the step's image, where
 * overlay's copy-up keeps the metadata of every directory on the way.
 */
import { Buffer } from "node:buffer";
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { PAX_XATTR, pushXattrs } from "../image/pax.ts";
import { TarReader } from "../image/tar_reader.ts";
import { writeAll } from "../storage/blobs.ts";

/**
 * The extended attributes of the entries of the tar `source` that have
 * any, by entry name (pax keys): what `CopyTar.from` carries over.
 */
export async function tarXattrs(
  source: Readable,
): Promise<Map<string, Record<string, Uint8Array>>> {
  const out = new Map<string, Record<string, Uint8Array>>();
  const reader = new TarReader({
    entry: (h) => {
      if (h.xattrs.size === 0) return;
      out.set(
        h.name,
        Object.fromEntries(
          [...h.xattrs].map(([k, v]) => [`${PAX_XATTR}${k}`, v]),
        ),
      );
    },
    data: () => {},
    end: () => {},
  });
  for await (const chunk of source) reader.write(chunk as Uint8Array);
  reader.finish();
  return out;
}

/** Who owns what a COPY writes; -1 keeps the source's (ADD of archives). */
export interface Owner {
  uid: number;
  gid: number;
}

/** A tar being written to a file, entry by entry. */
export class CopyTar {
  private readonly pack = tar.pack();
  private readonly done: Promise<void>;
  private readonly file: Deno.FsFile;
  /** Directories already written: each once. */
  private readonly dirs = new Set<string>();

  constructor(readonly path: string) {
    this.file = Deno.openSync(path, { write: true, createNew: true });
    const file = this.file;
    this.done = (async () => {
      for await (const c of this.pack) await writeAll(file, c as Uint8Array);
    })();
    this.done.catch(() => {});
  }

  private entry(h: Partial<tar.Header>, body?: Uint8Array): Promise<void> {
    return new Promise((ok, fail) =>
      this.pack.entry(
        h as tar.Header,
        body ? Buffer.from(body) : Buffer.alloc(0),
        (e) => e ? fail(e) : ok(),
      )
    );
  }

  /** A directory (once per name). */
  async dir(name: string, owner: Owner, mode = 0o755, mtime = new Date()) {
    if (this.dirs.has(name)) return;
    this.dirs.add(name);
    await this.entry({
      name,
      type: "directory",
      mode,
      uid: owner.uid,
      gid: owner.gid,
      mtime,
    });
  }

  /** A file with content `data`. */
  async bytes(name: string, data: Uint8Array, owner: Owner, mode = 0o644) {
    await this.entry({
      name,
      mode,
      uid: owner.uid,
      gid: owner.gid,
      mtime: new Date(),
      size: data.length,
    }, data);
  }

  /** The host node at `abs` (lstat `info`) as `name`. */
  async node(
    name: string,
    abs: string,
    info: Deno.FileInfo,
    owner: Owner,
    chmod?: number,
  ) {
    const base = {
      name,
      uid: owner.uid,
      gid: owner.gid,
      mode: chmod ?? info.mode! & 0o7777,
      mtime: info.mtime ?? new Date(0),
    };
    if (info.isDirectory) {
      return await this.dir(name, owner, base.mode, base.mtime);
    }
    if (info.isSymlink) {
      return await this.entry({
        ...base,
        mode: 0o777,
        type: "symlink",
        linkname: Deno.readLinkSync(abs),
      });
    }
    if (!info.isFile) return;
    await new Promise<void>((ok, fail) => {
      const sink = this.pack.entry(
        { ...base, size: info.size } as tar.Header,
        (e) => e ? fail(e) : ok(),
      );
      const src = createReadStream(abs);
      src.on("error", fail);
      src.pipe(sink as unknown as NodeJS.WritableStream);
    });
  }

  /**
   * The entries of the tar `source`, each renamed by `rename` (undefined
   * drops it), owned by `owner` when given, else as the tar has them;
   * `xattrs` (see tarXattrs) are the extended attributes of its entries,
   * which tar-stream cannot read.
   */
  async from(
    source: Readable,
    rename: (name: string, type?: string) => string | undefined,
    owner?: Owner,
    chmod?: number,
    xattrs?: Map<string, Record<string, Uint8Array>>,
  ) {
    const extract = tar.extract();
    source.on("error", (e) => extract.destroy(e));
    source.pipe(extract);
    for await (const e of extract) {
      const h = e.header;
      const name = rename(h.name, h.type);
      const linkname = h.type === "link" && h.linkname
        ? rename(h.linkname)
        : h.linkname;
      if (name === undefined || (h.type === "link" && linkname === undefined)) {
        e.resume();
        continue;
      }
      const x = h.type === "link" ? undefined : xattrs?.get(h.name);
      const header: Partial<tar.Header> = {
        ...h,
        name: x ? pushXattrs((b) => this.pack.push(b), name, x) : name,
        linkname: linkname ?? undefined,
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
        ...(chmod !== undefined && h.type !== "symlink" ? { mode: chmod } : {}),
        pax: undefined,
      };
      if (h.type === "directory") {
        if (this.dirs.has(name)) {
          e.resume();
          continue;
        }
        this.dirs.add(name);
      }
      await new Promise<void>((ok, fail) => {
        const sink = this.pack.entry(
          header as tar.Header,
          (err) => err ? fail(err) : ok(),
        );
        e.on("error", fail);
        e.pipe(sink as unknown as NodeJS.WritableStream);
      });
    }
  }

  /** Ends the tar and closes the file. */
  async finish(): Promise<void> {
    try {
      this.pack.finalize();
      await this.done;
    } finally {
      this.file.close();
    }
  }

  /** Gives up: closes and removes the file. */
  async abort(): Promise<void> {
    this.pack.destroy();
    await this.done.catch(() => {});
    try {
      this.file.close();
    } catch { /* closed */ }
    await Deno.remove(this.path).catch(() => {});
  }
}
