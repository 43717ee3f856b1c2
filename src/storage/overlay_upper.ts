/**
 * How deletions and opaque directories are written down, in the two forms
 * ptd meets: an OCI layer tar names them (`.wh.NAME` hides NAME of the
 * layers below, `.wh..wh..opq` hides everything below in its directory);
 * overlayfs, and so every unpacked layer and a container's upper dir, holds
 * them as a 0/0 character device named NAME and as the `overlay.opaque`
 * xattr "y" on the directory. The xattr is `trusted.overlay.opaque`, or
 * `user.overlay.opaque` when overlay is mounted with `userxattr`, as it is
 * in a user namespace (rootless).
 *
 * The layer writer turns the tar form into the overlay form, the volume
 * copy-up reads the overlay form, and `upperChanges` turns an upper dir
 * back into tar form, for a future `commit` or `build`.
 */
import * as fs from "../../ffi/fs.ts";

/** Prefix of a whiteout's name in a layer tar. */
export const WHITEOUT_PREFIX = ".wh.";
/** The name, in a layer tar, that makes its directory opaque. */
export const OPAQUE_WHITEOUT = ".wh..wh..opq";
const OVERLAY_NAMESPACES = ["user", "trusted"] as const;
const OPAQUE = "y";

/** The opaque xattr overlay reads: user.* with userxattr (rootless). */
export function opaqueXattr(userns: boolean): string {
  return `${userns ? "user" : "trusted"}.overlay.opaque`;
}

/**
 * True for an xattr that overlayfs itself interprets (`trusted.overlay.*`,
 * `user.overlay.*`): never taken from a layer's own records, where it could
 * redirect or hide what the layers below hold.
 */
export function isOverlayXattr(name: string): boolean {
  return OVERLAY_NAMESPACES.some((ns) => name.startsWith(`${ns}.overlay.`));
}

/** What the last component of a layer tar entry's name means to overlay. */
export type TarMarker =
  | { kind: "opaque" }
  | { kind: "whiteout"; hidden: string }
  /** Other `.wh..wh.` names: aufs bookkeeping, with no meaning here. */
  | { kind: "ignored" };

/**
 * The marker `name` (one path component) stands for, or undefined for an
 * ordinary entry. Throws for a whiteout of `.` or `..`.
 */
export function tarMarker(name: string): TarMarker | undefined {
  if (!name.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (name === OPAQUE_WHITEOUT) return { kind: "opaque" };
  if (name.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) {
    return { kind: "ignored" };
  }
  const hidden = name.slice(WHITEOUT_PREFIX.length);
  if (hidden === "." || hidden === "..") {
    throw new Error("whiteout of . or ..");
  }
  return { kind: "whiteout", hidden };
}

/** Makes `name` in the directory `dirfd` a whiteout (nothing may be there). */
export function makeWhiteout(dirfd: number, name: string): void {
  fs.mknodat(dirfd, name, fs.S_IFCHR, 0n);
}

/** Marks the directory open as `fd` opaque, in `userns`'s xattr namespace. */
export function markOpaque(fd: number, userns: boolean): void {
  fs.fsetxattr(fd, opaqueXattr(userns), OPAQUE);
}

/** True when `st` (an lstat) is a whiteout: a 0/0 character device. */
export function isWhiteout(st: Deno.FileInfo): boolean {
  return st.isCharDevice === true && st.rdev === 0;
}

/**
 * True when the directory at `path` is opaque. Either namespace counts:
 * layers unpacked rootless carry user.*, those unpacked as root trusted.*.
 */
export function isOpaque(path: string): boolean {
  return OVERLAY_NAMESPACES.some((ns) => {
    try {
      return fs.lgetxattr(path, `${ns}.overlay.opaque`) === OPAQUE;
    } catch {
      return false; // no xattr support, or trusted.* not readable here
    }
  });
}

/** One change an upper dir holds, in a layer tar's terms. */
export interface UpperChange {
  /** The tar entry's name, relative and without a leading "./". */
  path: string;
  /** A whiteout or opaque marker (path ends in a `.wh.` name), or a node. */
  kind: "whiteout" | "opaque" | "node";
  /** The node's lstat (kind "node"): type, owner, mode, size, times. */
  info?: Deno.FileInfo;
}

/**
 * The changes of the overlay upper dir `upper` as a layer tar lists them:
 * each directory before its content, an opaque directory followed at once
 * by its `.wh..wh..opq`, a whiteout as `.wh.NAME`; names sorted, so the
 * same upper dir always gives the same layer. (ptd mounts overlay without
 * redirect_dir and metacopy, so no other overlay xattr has a meaning.)
 */
export function upperChanges(upper: string): UpperChange[] {
  const out: UpperChange[] = [];
  const walk = (dir: string, prefix: string) => {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    for (const name of names) {
      const info = Deno.lstatSync(`${dir}/${name}`);
      const path = prefix + name;
      if (isWhiteout(info)) {
        out.push({ path: prefix + WHITEOUT_PREFIX + name, kind: "whiteout" });
        continue;
      }
      out.push({ path, kind: "node", info });
      if (!info.isDirectory) continue;
      if (isOpaque(`${dir}/${name}`)) {
        out.push({ path: `${path}/${OPAQUE_WHITEOUT}`, kind: "opaque" });
      }
      walk(`${dir}/${name}`, `${path}/`);
    }
  };
  if (isOpaque(upper)) out.push({ path: OPAQUE_WHITEOUT, kind: "opaque" });
  walk(upper, "");
  return out;
}
