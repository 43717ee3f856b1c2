/**
 * Writing a layer's tar entries under a directory fd. Every entry name and
 * link target is hostile: paths are resolved by the kernel beneath the
 * layer's root fd (openat2 RESOLVE_BENEATH) and acted on with *at calls that
 * never follow the final component, so a `..`, an absolute path or a
 * symlink cannot lead a write out of the layer.
 */
import type { Readable } from "node:stream";
import { SysError } from "../../ffi/errno.ts";
import * as fs from "../../ffi/fs.ts";
import {
  isOverlayXattr,
  makeWhiteout,
  markOpaque,
  type TarMarker,
  tarMarker,
} from "../storage/overlay_upper.ts";
import { type TarHeader, TarReader, type TarVisitor } from "./tar_reader.ts";

const PATH_MAX = 4096;
const BENEATH = fs.RESOLVE_BENEATH | fs.RESOLVE_NO_MAGICLINKS;
const DIR_PATH = fs.O_PATH | fs.O_DIRECTORY;
const DIR_READ = fs.O_DIRECTORY | fs.O_NOFOLLOW;
const NEW_FILE = fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW;
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

/** A regular file being written: its content arrives in `data` calls. */
interface OpenFile {
  fd: number;
  header: TarHeader;
}

/** Where an entry goes: `name` in the directory `dir`, at path `parent`. */
interface Slot {
  parent: string[];
  dir: number;
  name: string;
}

/** The permission bits of an entry. */
function mode(h: TarHeader): number {
  return h.mode & 0o7777;
}

/** How a tree that is not a layer (`cp`) is written. */
export interface TreeOptions {
  /** Caller is root of a user namespace (see writeLayer). */
  userns: boolean;
  /** Owners: as the tar has them, one for every entry, or left as made. */
  owner: "keep" | "skip" | { uid: number; gid: number };
}

/** Writes the entries of one layer under a root directory fd. */
export class LayerWriter implements TarVisitor {
  /** Directory mtimes, set last: creating entries inside changes them. */
  private dirTimes: [string[], number][] = [];
  /**
   * O_PATH fds of directories already resolved beneath the root, by path.
   * An fd keeps naming the directory it was opened on, so when an entry
   * removes a directory the fds of it and of everything below it are
   * dropped: no later entry may reach a path through a directory that is
   * gone or was replaced. The fds of its parents stay good.
   */
  private dirs = new Map<string, number>();
  private warnedDevice = false;
  private warnedOwner = false;
  private warnedXattr = false;
  /** The entry being written, and its file while its content comes. */
  private current: TarHeader | undefined;
  private file: OpenFile | undefined;

  /**
   * `tree` makes it a plain tree's writer: `.wh.` names are ordinary files
   * and owners follow `tree.owner`. Without it, a layer's.
   */
  constructor(
    private readonly root: number,
    private readonly userns: boolean,
    private readonly tree?: TreeOptions,
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

  /** Drops the cached fds of the directory `path` and of all below it. */
  private forgetTree(path: string): void {
    for (const [key, fd] of this.dirs) {
      if (key === path || key.startsWith(`${path}/`)) {
        fs.close(fd);
        this.dirs.delete(key);
      }
    }
  }

  /**
   * Makes room for a new non-directory at `at`. A directory in the way goes
   * with all it holds, as in Podman (containers/storage removes it whole).
   */
  private clear({ parent, dir, name }: Slot): void {
    try {
      fs.unlinkat(dir, name);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return;
      if (!isErrno(e, "EISDIR")) throw e;
      this.forgetTree([...parent, name].join("/"));
      // Through the fd, so nothing on the way is resolved again; the tree
      // removal itself never follows a symlink.
      Deno.removeSync(`/proc/self/fd/${dir}/${name}`, { recursive: true });
    }
  }

  /**
   * Runs `create`, which makes a new non-directory at `at`; when something
   * is in the way (an earlier entry), clears it and tries again. A fresh
   * layer mostly has nothing there: no unlink per entry.
   */
  private fresh<T>(at: Slot, create: () => T): T {
    try {
      return create();
    } catch (e) {
      if (!isErrno(e, "EEXIST")) throw e;
    }
    this.clear(at);
    return create();
  }

  /**
   * Gives an entry its owner through `set`. With a single-id map (no
   * subordinate range) other ids do not exist in the namespace (EINVAL):
   * like Podman's ignore_chown_errors, the entry then stays the user's,
   * with one warning.
   */
  private chown(h: TarHeader, set: (uid: number, gid: number) => void) {
    const owner = this.tree?.owner ?? "keep";
    if (owner === "skip") return;
    try {
      if (owner === "keep") set(h.uid, h.gid);
      else set(owner.uid, owner.gid);
    } catch (e) {
      if (!this.userns || !isErrno(e, "EINVAL")) throw e;
      if (!this.warnedOwner) {
        console.error(
          `WARN: uid ${h.uid}/gid ${h.gid} are not mapped (no /etc/subuid range?): layer files keep the user's ownership`,
        );
        this.warnedOwner = true;
      }
    }
  }

  /**
   * Sets the entry's extended attributes through `set`, after its owner
   * (chown drops a file capability). Those overlayfs interprets are never
   * taken from a layer. Namespace root writing a file capability gets the
   * kernel's v3 form, bound to the namespace's root: the capability holds
   * in the container and means nothing to the host. What the file system
   * cannot hold (no xattr support; rootless, `trusted.*` and other
   * privileged names) is skipped with one warning, as Podman does.
   */
  private xattrs(h: TarHeader, set: (name: string, v: Uint8Array) => void) {
    for (const [name, value] of h.xattrs) {
      if (isOverlayXattr(name)) continue;
      try {
        set(name, value);
      } catch (e) {
        const skip = isErrno(e, "EOPNOTSUPP") ||
          (this.userns && (isErrno(e, "EPERM") || isErrno(e, "EACCES")));
        if (!skip) throw e;
        if (!this.warnedXattr) {
          console.error(
            `WARN: cannot set xattr ${name} of ${h.name} (${
              (e as SysError).code
            }): such attributes are left out of the layer`,
          );
          this.warnedXattr = true;
        }
      }
    }
  }

  /** Owner, mode (chown clears setuid bits), xattrs, times, by name. */
  private finishNode(at: Slot, h: TarHeader, chmod: boolean) {
    const { dir, name } = at;
    this.chown(h, (u, g) => fs.lchownat(dir, name, u, g));
    if (chmod) fs.fchmodat(dir, name, mode(h));
    this.xattrs(
      h,
      (x, v) => fs.lsetxattr(`/proc/self/fd/${dir}/${name}`, x, v),
    );
    fs.lutimensat(dir, name, h.atime, h.mtime);
  }

  /** Starts an entry: all of it but a regular file's content. */
  entry(h: TarHeader): void {
    this.current = h;
    try {
      this.file = this.place(h) ?? undefined;
    } catch (e) {
      throw explain(e, h.name);
    }
  }

  /** The next bytes of the current entry's content. */
  data(chunk: Uint8Array): void {
    if (!this.file) return;
    try {
      fs.writeAll(this.file.fd, chunk);
    } catch (e) {
      throw explain(e, this.current?.name ?? "");
    }
  }

  /** The current entry is complete. */
  end(): void {
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    try {
      this.finishFile(file);
    } catch (e) {
      throw explain(e, file.header.name);
    } finally {
      fs.close(file.fd);
    }
  }

  /** Makes the entry, except a regular file's content: its fd is returned. */
  private place(h: TarHeader): OpenFile | void {
    const comps = components(h.name);
    if (comps.length === 0) {
      if (h.type === "directory") this.directoryMeta(this.root, h, comps);
      return;
    }
    const name = comps[comps.length - 1];
    const parent = comps.slice(0, -1);
    const marker = this.tree ? undefined : tarMarker(name);
    if (marker) return this.whiteout(parent, marker);
    const dir = this.parentDir(parent);
    const at: Slot = { parent, dir, name };
    switch (h.type) {
      case "file": {
        const fd = this.fresh(at, () => fs.openat(dir, name, NEW_FILE, 0o600));
        return { fd, header: h };
      }
      case "directory":
        return this.directory(at, h, comps);
      case "symlink":
        this.fresh(at, () => fs.symlinkat(h.linkname, dir, name));
        return this.finishNode(at, h, false);
      case "link":
        return this.hardLink(at, h.linkname);
      case "fifo":
        this.fresh(at, () => fs.mknodat(dir, name, fs.S_IFIFO | 0o600, 0n));
        return this.finishNode(at, h, true);
      case "character-device":
      case "block-device":
        return this.device(at, h);
      default:
        throw new LayerError(`unsupported entry type (${h.type})`);
    }
  }

  /** A written file's owner, mode (chown clears setuid), xattrs, times. */
  private finishFile({ fd, header: h }: OpenFile) {
    this.chown(h, (u, g) => fs.fchown(fd, u, g));
    fs.fchmod(fd, mode(h));
    this.xattrs(h, (x, v) => fs.fsetxattr(fd, x, v));
    fs.futimens(fd, h.atime, h.mtime);
  }

  private directory(at: Slot, h: TarHeader, comps: string[]) {
    const { dir, name } = at;
    let fd: number;
    try {
      fs.mkdirat(dir, name, 0o700);
      fd = fs.openat(dir, name, DIR_READ);
    } catch (e) {
      if (!isErrno(e, "EEXIST")) throw e;
      try {
        fd = fs.openat(dir, name, DIR_READ); // a directory already: keep it
      } catch {
        this.clear(at);
        fs.mkdirat(dir, name, 0o700);
        fd = fs.openat(dir, name, DIR_READ);
      }
    }
    try {
      this.directoryMeta(fd, h, comps);
    } finally {
      fs.close(fd);
    }
  }

  private directoryMeta(fd: number, h: TarHeader, comps: string[]) {
    this.chown(h, (u, g) => fs.fchown(fd, u, g));
    fs.fchmod(fd, mode(h));
    this.xattrs(h, (x, v) => fs.fsetxattr(fd, x, v));
    this.dirTimes.push([comps, h.mtime]);
  }

  private hardLink(at: Slot, target: string) {
    const t = components(target, `link target ${shorten(target)}`);
    if (t.length === 0) throw new LayerError("hard link to the layer root");
    const tdir = this.dir(t.slice(0, -1), DIR_PATH, false);
    try {
      this.fresh(
        at,
        () => fs.linkat(tdir, t[t.length - 1], at.dir, at.name),
      );
    } finally {
      fs.close(tdir);
    }
  }

  private device(at: Slot, h: TarHeader) {
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
    const dev = fs.makedev(h.devmajor, h.devminor);
    this.fresh(at, () => fs.mknodat(at.dir, at.name, kind | 0o600, dev));
    this.finishNode(at, h, true);
  }

  /** An OCI whiteout, in the form overlayfs reads. */
  private whiteout(parent: string[], marker: TarMarker) {
    if (marker.kind === "opaque") {
      const fd = this.dir(parent, fs.O_DIRECTORY);
      try {
        markOpaque(fd, this.userns);
      } finally {
        fs.close(fd);
      }
    } else if (marker.kind === "whiteout") {
      const dir = this.parentDir(parent);
      this.clear({ parent, dir, name: marker.hidden });
      makeWhiteout(dir, marker.hidden);
    }
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
    if (this.file) fs.close(this.file.fd);
    this.file = undefined;
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
  try {
    const reader = new TarReader(writer);
    for await (const chunk of source) reader.write(chunk as Uint8Array);
    reader.finish();
    writer.finish();
  } finally {
    writer.close();
    fs.close(root);
  }
}
