/**
 * File system calls relative to a directory fd, for trees whose paths come
 * from an image. A path is resolved by the kernel under a root fd with
 * openat2(RESOLVE_BENEATH), so no `..`, absolute path or symlink can lead
 * out of it; the final component is then acted on with the *at calls and
 * never followed. Every call throws a SysError naming its subject.
 */
import { O_CLOEXEC } from "./constants.ts";
import { check, cstr, errno, libc } from "./libc.ts";

const ENODATA = 61;

export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_PATH = 0o10000000;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;

/** Fail with EXDEV when resolution would leave the starting directory. */
export const RESOLVE_BENEATH = 0x08;
/**
 * Resolve as if the starting directory were the root: `..`, absolute paths
 * and absolute symlinks stay inside it (a container's root, seen from out).
 */
export const RESOLVE_IN_ROOT = 0x10;
/** Never follow /proc magic links (/proc/self/fd/N and friends). */
export const RESOLVE_NO_MAGICLINKS = 0x02;

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/**
 * Opens `path` under `dirfd` with openat2; `resolve` is a RESOLVE_* mask.
 * O_CLOEXEC is always added.
 */
export function openat2(
  dirfd: number,
  path: string,
  flags: number,
  resolve: number,
  mode = 0,
): number {
  const how = new BigUint64Array([
    BigInt(flags | O_CLOEXEC),
    BigInt(mode),
    BigInt(resolve),
  ]);
  return check(
    "openat2",
    libc().openat2(dirfd, cstr(path), how, how.byteLength),
    path,
  );
}

/** openat(2) of `name` in `dirfd`; O_CLOEXEC is always added. */
export function openat(
  dirfd: number,
  name: string,
  flags: number,
  mode = 0,
): number {
  return check(
    "openat",
    libc().openat(dirfd, cstr(name), flags | O_CLOEXEC, mode),
    name,
  );
}

/** Closes `fd`; errors are ignored (nothing useful can be done about them). */
export function close(fd: number): void {
  libc().close(fd);
}

/** Writes all of `data` to `fd`. */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    const chunk = data.subarray(off);
    off += Number(
      check("write", libc().write(fd, chunk, BigInt(chunk.length))),
    );
  }
}

/** mkdirat(2). */
export function mkdirat(dirfd: number, name: string, mode: number): void {
  check("mkdirat", libc().mkdirat(dirfd, cstr(name), mode), name);
}

/** mknodat(2); `dev` is the encoded device number (see makedev). */
export function mknodat(
  dirfd: number,
  name: string,
  mode: number,
  dev: bigint,
): void {
  check("mknodat", libc().mknodat(dirfd, cstr(name), mode, dev), name);
}

/** Linux's encoding of a device number (glibc's makedev). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) |
    ((mi & ~0xffn) << 12n);
}

/** symlinkat(2): a link named `name` in `dirfd` holding `target` verbatim. */
export function symlinkat(target: string, dirfd: number, name: string): void {
  check("symlinkat", libc().symlinkat(cstr(target), dirfd, cstr(name)), name);
}

/** linkat(2) without following a symlink at `oldName`. */
export function linkat(
  oldDirfd: number,
  oldName: string,
  newDirfd: number,
  newName: string,
): void {
  check(
    "linkat",
    libc().linkat(oldDirfd, cstr(oldName), newDirfd, cstr(newName), 0),
    newName,
  );
}

/** unlinkat(2); `flags` may be AT_REMOVEDIR. */
export function unlinkat(dirfd: number, name: string, flags = 0): void {
  check("unlinkat", libc().unlinkat(dirfd, cstr(name), flags), name);
}

/** fchown(2). */
export function fchown(fd: number, uid: number, gid: number): void {
  check("fchown", libc().fchown(fd, uid, gid));
}

/** fchownat(2) of `name` itself, never a symlink's target. */
export function lchownat(
  dirfd: number,
  name: string,
  uid: number,
  gid: number,
): void {
  check(
    "fchownat",
    libc().fchownat(dirfd, cstr(name), uid, gid, AT_SYMLINK_NOFOLLOW),
    name,
  );
}

/** fchmod(2). */
export function fchmod(fd: number, mode: number): void {
  check("fchmod", libc().fchmod(fd, mode));
}

/**
 * fchmodat(2). It follows a symlink at `name`, so call it only on an entry
 * the caller has just created and knows is not one.
 */
export function fchmodat(dirfd: number, name: string, mode: number): void {
  check("fchmodat", libc().fchmodat(dirfd, cstr(name), mode), name);
}

function timespecs(atime: number, mtime: number): Uint8Array<ArrayBuffer> {
  const ts = new BigInt64Array(4);
  [atime, mtime].forEach((t, i) => {
    const s = Math.floor(t);
    ts[2 * i] = BigInt(s);
    ts[2 * i + 1] = BigInt(Math.min(999_999_999, Math.round((t - s) * 1e9)));
  });
  return new Uint8Array(ts.buffer);
}

/** Sets access and modification time (seconds, fractions allowed) of `name`
 * in `dirfd`, not following a symlink there. */
export function lutimensat(
  dirfd: number,
  name: string,
  atime: number,
  mtime: number,
): void {
  const ts = timespecs(atime, mtime);
  check(
    "utimensat",
    libc().utimensat(dirfd, cstr(name), ts, AT_SYMLINK_NOFOLLOW),
    name,
  );
}

/** Sets access and modification time of an open file. */
export function futimens(fd: number, atime: number, mtime: number): void {
  check("futimens", libc().futimens(fd, timespecs(atime, mtime)));
}

/** An xattr value as bytes; a string is taken as UTF-8. */
function xattrValue(value: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof value === "string"
    ? new TextEncoder().encode(value)
    : new Uint8Array(value);
}

/** fsetxattr(2). */
export function fsetxattr(
  fd: number,
  name: string,
  value: string | Uint8Array,
): void {
  const v = xattrValue(value);
  check(
    "fsetxattr",
    libc().fsetxattr(fd, cstr(name), v, BigInt(v.length), 0),
    name,
  );
}

/** lsetxattr(2): sets an xattr of `path` itself, never a symlink's target. */
export function lsetxattr(
  path: string,
  name: string,
  value: string | Uint8Array,
): void {
  const v = xattrValue(value);
  check(
    "lsetxattr",
    libc().lsetxattr(cstr(path), cstr(name), v, BigInt(v.length), 0),
    name,
  );
}

/** The bytes of an extended attribute of `path` (not following a final
 * symlink), or undefined when it is not set. */
export function lgetxattrBytes(
  path: string,
  name: string,
): Uint8Array | undefined {
  const buf = new Uint8Array(65536); // XATTR_SIZE_MAX: any value fits
  const n = libc().lgetxattr(cstr(path), cstr(name), buf, BigInt(buf.length));
  if (n === -1n && errno() === ENODATA) return undefined;
  check("lgetxattr", n, path);
  return buf.slice(0, Number(n));
}

/** The names of the extended attributes of `path` itself (llistxattr(2)). */
export function llistxattr(path: string): string[] {
  const buf = new Uint8Array(65536); // XATTR_LIST_MAX
  const n = libc().llistxattr(cstr(path), buf, BigInt(buf.length));
  check("llistxattr", n, path);
  return new TextDecoder().decode(buf.subarray(0, Number(n))).split("\0")
    .filter(Boolean);
}

/** An extended attribute of `path` as text (see lgetxattrBytes). */
export function lgetxattr(path: string, name: string): string | undefined {
  const bytes = lgetxattrBytes(path, name);
  return bytes && new TextDecoder().decode(bytes);
}
