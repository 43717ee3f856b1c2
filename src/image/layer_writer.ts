/**
 * Writing a layer's tar entries under a directory fd. Every entry name and
 * link target is hostile: paths are resolved by the kernel beneath the
 * layer's root fd (openat2 RESOLVE_BENEATH) and acted on with *at calls that
 * never follow the final component, so a `..`, an absolute path or a
 * symlink cannot lead a write out of the layer.
 */
import type { Readable } from "node:stream";
import tar, { type ExtractEvents, type Header } from "tar-stream";
import { SysError } from "../../ffi/errno.ts";
import * as fs from "../../ffi/fs.ts";

const PATH_MAX = 4096;
const BENEATH = fs.RESOLVE_BENEATH | fs.RESOLVE_NO_MAGICLINKS;
const DIR_PATH = fs.O_PATH | fs.O_DIRECTORY;
const DIR_READ = fs.O_DIRECTORY | fs.O_NOFOLLOW;
const NEW_FILE = fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW;
const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
/** Directory fds kept open: a tar lists a directory's entries together. */
const DIR_CACHE = 32;

/** A refusal, worded for users; the entry's name is added by `explain`. */
export class LayerError extends Error {}

function shorten(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}...` : name);
}

/** The components of an entry path (`what` names it in a refusal). */
function components(path: string, what = "path"): string[] {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most names need no count.
  if (
    path.length * 3 >= PATH_MAX &&
    new TextEncoder().encode(path).length >= PATH_MAX
  ) {
    throw new LayerError(`${what} longer than PATH_MAX`);
  }
  if (path.includes("\0")) throw new LayerError(`${what} contains a NUL byte`);
  if (path.startsWith("/")) throw new LayerError(`${what} is absolute`);
  const out: string[] = [];
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue;
    if (c !== "..") out.push(c);
    else if (out.pop() === undefined) {
      throw new LayerError(`${what} escapes the layer (..)`);
    }
  }
  return out;
}

/** A failure on entry `name` as one line that says what was refused. */
function explain(e: unknown, name: string): Error {
  let why = e instanceof Error ? e.message : String(e);
  if (e instanceof SysError && e.code === "EXDEV") {
    why = "path leads out of the layer through a symlink";
  } else if (e instanceof SysError && e.code === "ELOOP") {
    why = "path goes through a symlink";
  }
  return new LayerError(`layer entry ${shorten(name)}: ${why}`);
}

function isErrno(e: unknown, code: string): boolean {
  return e instanceof SysError && e.code === code;
}

/** An entry's content, which must be drained before the next entry. */
type Body = ExtractEvents["entry"][1];

/** A regular file being written: its content arrives in `data` events. */
interface OpenFile {
  fd: number;
  meta: Meta;
}

interface Meta {
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
}

function metaOf(h: Header): Meta {
  const pax = (h.pax ?? {}) as Record<string, string | undefined>;
  const mtime = pax.mtime
    ? Number(pax.mtime)
    : (h.mtime?.getTime() ?? 0) / 1000;
  return {
    mode: (h.mode ?? 0o644) & 0o7777,
    uid: pax.uid ? Number(pax.uid) : h.uid ?? 0,
    gid: pax.gid ? Number(pax.gid) : h.gid ?? 0,
    atime: pax.atime ? Number(pax.atime) : mtime,
    mtime,
  };
}

/** Writes the entries of one layer under a root directory fd. */
class LayerWriter {
  /** Directory mtimes, set last: creating entries inside changes them. */
  private dirTimes: [string[], number][] = [];
  /**
   * O_PATH fds of directories already resolved beneath the root, by path.
   * An fd keeps naming the directory it was opened on, so the cache is
   * emptied whenever an entry removes a directory: no later entry may
   * reach a path through a directory that is gone or was replaced.
   */
  private dirs = new Map<string, number>();
  private warnedDevice = false;
  private warnedOwner = false;

  constructor(
    private readonly root: number,
    private readonly userns: boolean,
  ) {}

  /** An fd of the directory at `comps`, made (0755, root) where missing. */
  private dir(comps: string[], flags = DIR_PATH, create = true): number {
    const path = comps.length ? comps.join("/") : ".";
    try {
      return fs.openat2(this.root, path, flags, BENEATH);
    } catch (e) {
      if (!create || comps.length === 0 || !isErrno(e, "ENOENT")) throw e;
    }
    const parent = this.dir(comps.slice(0, -1));
    try {
      fs.mkdirat(parent, comps[comps.length - 1], 0o755);
    } catch (e) {
      if (!isErrno(e, "EEXIST")) throw e;
    } finally {
      fs.close(parent);
    }
    return fs.openat2(this.root, path, flags, BENEATH);
  }

  /** The cached O_PATH fd of the parent directory `comps` (not to close). */
  private parentDir(comps: string[]): number {
    const key = comps.join("/");
    let fd = this.dirs.get(key);
    if (fd === undefined) {
      if (this.dirs.size >= DIR_CACHE) this.forgetDirs();
      fd = this.dir(comps);
      this.dirs.set(key, fd);
    }
    return fd;
  }

  private forgetDirs(): void {
    for (const fd of this.dirs.values()) fs.close(fd);
    this.dirs.clear();
  }

  /** Makes room for a new non-directory `name` in `dir`. */
  private clear(dir: number, name: string): void {
    try {
      fs.unlinkat(dir, name);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return;
      if (!isErrno(e, "EISDIR")) throw e;
      fs.unlinkat(dir, name, fs.AT_REMOVEDIR);
      this.forgetDirs();
    }
  }

  /**
   * Runs `create`, which makes a new non-directory `name` in `dir`; when
   * something is in the way (an earlier entry), clears it and tries again.
   * A fresh layer mostly has nothing there: no unlink per entry.
   */
  private fresh<T>(dir: number, name: string, create: () => T): T {
    try {
      return create();
    } catch (e) {
      if (!isErrno(e, "EEXIST")) throw e;
    }
    this.clear(dir, name);
    return create();
  }

  /**
   * Gives an entry its owner through `set`. With a single-id map (no
   * subordinate range) other ids do not exist in the namespace (EINVAL):
   * like Podman's ignore_chown_errors, the entry then stays the user's,
   * with one warning.
   */
  private chown(m: Meta, set: (uid: number, gid: number) => void) {
    try {
      set(m.uid, m.gid);
    } catch (e) {
      if (!this.userns || !isErrno(e, "EINVAL")) throw e;
      if (!this.warnedOwner) {
        console.error(
          `WARN: uid ${m.uid}/gid ${m.gid} are not mapped (no /etc/subuid range?): layer files keep the user's ownership`,
        );
        this.warnedOwner = true;
      }
    }
  }

  /** Owner, then mode (chown clears setuid bits), then times, by name. */
  private finishNode(dir: number, name: string, m: Meta, chmod: boolean) {
    this.chown(m, (u, g) => fs.lchownat(dir, name, u, g));
    if (chmod) fs.fchmodat(dir, name, m.mode);
    fs.lutimensat(dir, name, m.atime, m.mtime);
  }

  /**
   * Unpacks one entry; `done` is called once, when `body` has been written
   * (or drained) or with the refusal. No promise per entry or per chunk: a
   * layer has thousands of small entries.
   */
  entry(h: Header, body: Body, done: (e?: Error) => void): void {
    let file: OpenFile | void;
    const fail = (e: unknown) => {
      if (file) fs.close(file.fd);
      file = undefined;
      done(explain(e, h.name));
    };
    try {
      file = this.place(h);
    } catch (e) {
      body.resume();
      return fail(e);
    }
    body.on("data", (chunk) => {
      if (!file) return;
      try {
        fs.writeAll(file.fd, chunk as Uint8Array);
      } catch (e) {
        fail(e);
      }
    });
    body.on("end", () => {
      if (!file) return done();
      try {
        this.finishFile(file);
      } catch (e) {
        return fail(e);
      }
      fs.close(file.fd);
      done();
    });
  }

  /** Makes the entry, except a regular file's content: its fd is returned. */
  private place(h: Header): OpenFile | void {
    const comps = components(h.name);
    const m = metaOf(h);
    if (comps.length === 0) {
      if (h.type === "directory") this.directoryMeta(this.root, m, comps);
      return;
    }
    const name = comps[comps.length - 1];
    const parent = comps.slice(0, -1);
    if (name.startsWith(WHITEOUT)) return this.whiteout(parent, name);
    const dir = this.parentDir(parent);
    switch (h.type) {
      case "file":
      case "contiguous-file":
        return {
          fd: this.fresh(
            dir,
            name,
            () => fs.openat(dir, name, NEW_FILE, 0o600),
          ),
          meta: m,
        };
      case "directory":
        return this.directory(dir, name, m, comps);
      case "symlink":
        this.fresh(dir, name, () => fs.symlinkat(h.linkname ?? "", dir, name));
        return this.finishNode(dir, name, m, false);
      case "link":
        return this.hardLink(dir, name, h.linkname ?? "");
      case "fifo":
        this.fresh(
          dir,
          name,
          () => fs.mknodat(dir, name, fs.S_IFIFO | 0o600, 0n),
        );
        return this.finishNode(dir, name, m, true);
      case "character-device":
      case "block-device":
        return this.device(dir, name, h, m);
      default:
        throw new LayerError(`unsupported entry type ${h.type}`);
    }
  }

  /** A written file's owner, then mode (chown clears setuid), then times. */
  private finishFile({ fd, meta: m }: OpenFile) {
    this.chown(m, (u, g) => fs.fchown(fd, u, g));
    fs.fchmod(fd, m.mode);
    fs.futimens(fd, m.atime, m.mtime);
  }

  private directory(dir: number, name: string, m: Meta, comps: string[]) {
    let fd: number;
    try {
      fs.mkdirat(dir, name, 0o700);
      fd = fs.openat(dir, name, DIR_READ);
    } catch (e) {
      if (!isErrno(e, "EEXIST")) throw e;
      try {
        fd = fs.openat(dir, name, DIR_READ); // a directory already: keep it
      } catch {
        this.clear(dir, name);
        fs.mkdirat(dir, name, 0o700);
        fd = fs.openat(dir, name, DIR_READ);
      }
    }
    try {
      this.directoryMeta(fd, m, comps);
    } finally {
      fs.close(fd);
    }
  }

  private directoryMeta(fd: number, m: Meta, comps: string[]) {
    this.chown(m, (u, g) => fs.fchown(fd, u, g));
    fs.fchmod(fd, m.mode);
    this.dirTimes.push([comps, m.mtime]);
  }

  private hardLink(dir: number, name: string, target: string) {
    const t = components(target, `link target ${shorten(target)}`);
    if (t.length === 0) throw new LayerError("hard link to the layer root");
    const tdir = this.dir(t.slice(0, -1), DIR_PATH, false);
    try {
      this.fresh(dir, name, () => fs.linkat(tdir, t[t.length - 1], dir, name));
    } finally {
      fs.close(tdir);
    }
  }

  private device(dir: number, name: string, h: Header, m: Meta) {
    if (this.userns) {
      if (!this.warnedDevice) {
        console.error(
          `WARN: skipping device nodes in a layer (e.g. ${h.name}): they cannot be created rootless`,
        );
        this.warnedDevice = true;
      }
      return;
    }
    const kind = h.type === "block-device" ? fs.S_IFBLK : fs.S_IFCHR;
    const dev = fs.makedev(h.devmajor ?? 0, h.devminor ?? 0);
    this.fresh(dir, name, () => fs.mknodat(dir, name, kind | 0o600, dev));
    this.finishNode(dir, name, m, true);
  }

  /** An OCI whiteout, in the form overlayfs reads. */
  private whiteout(parent: string[], name: string) {
    if (name === OPAQUE) {
      const fd = this.dir(parent, fs.O_DIRECTORY);
      try {
        const ns = this.userns ? "user" : "trusted";
        fs.fsetxattr(fd, `${ns}.overlay.opaque`, "y");
      } finally {
        fs.close(fd);
      }
      return;
    }
    if (name.startsWith(WHITEOUT + WHITEOUT)) return; // aufs metadata
    const hidden = name.slice(WHITEOUT.length);
    if (hidden === "." || hidden === "..") {
      throw new LayerError("whiteout of . or ..");
    }
    const dir = this.parentDir(parent);
    this.clear(dir, hidden);
    fs.mknodat(dir, hidden, fs.S_IFCHR, 0n);
  }

  /** Sets the deferred directory times, deepest first; closes the cache. */
  finish(): void {
    this.forgetDirs();
    for (const [comps, mtime] of this.dirTimes.reverse()) {
      if (comps.length === 0) {
        fs.futimens(this.root, mtime, mtime);
        continue;
      }
      const dir = this.dir(comps.slice(0, -1), DIR_PATH, false);
      try {
        fs.lutimensat(dir, comps[comps.length - 1], mtime, mtime);
      } finally {
        fs.close(dir);
      }
    }
  }

  /** Closes what is still open after a failure. */
  close(): void {
    this.forgetDirs();
  }
}

/**
 * Writes the tar stream `source` (uncompressed) into the directory `dir`.
 * `userns` says the caller is root of a user namespace: device nodes are
 * skipped, overlay xattrs are user.*. Throws a LayerError for a refused
 * entry, any other error for a broken archive.
 */
export async function writeLayer(
  source: Readable,
  dir: string,
  userns: boolean,
): Promise<void> {
  const root = fs.openat(fs.AT_FDCWD, dir, DIR_READ);
  const writer = new LayerWriter(root, userns);
  const extract = tar.extract();
  try {
    await new Promise<void>((resolve, reject) => {
      let error: Error | undefined;
      extract.on("entry", (header, body, next) => {
        // Its errors are the extractor's, reported once, below.
        body.on("error", () => {});
        writer.entry(header, body, (e) => {
          if (!e) return next();
          error ??= e;
          extract.destroy(e);
        });
      });
      extract.on("error", (e: Error) => error ??= e);
      extract.on("close", () => error ? reject(error) : resolve());
      source.on("error", (e) => extract.destroy(e));
      source.pipe(extract);
    });
    writer.finish();
  } finally {
    writer.close();
    fs.close(root);
  }
}
