/**
 * Letting a container's root reach the user's files when its user
 * namespace does not hold the user (--userns nomap, auto, --uidmap without
 * 0): init, as that root, walks the paths in its spec (the re-owned root,
 * upper and work, its mount point, the /etc files, bind sources, the spec
 * itself), and the directories above them are the user's, often mode 0700.
 * Each such directory gets an ACL entry letting that one id search it
 * (never read it), as Podman opens its store's directories (0711), but
 * only to the container's root, an id the user owns anyway. A descriptor
 * opened by the parent would not do: the kernel refuses to mount from, or
 * over, a mount of another mount namespace.
 */
import * as fs from "../../ffi/fs.ts";
import type { RuntimeSpec } from "./spec.ts";

const ACL = "system.posix_acl_access";
const ACL_VERSION = 2;
const [USER_OBJ, USER, GROUP_OBJ, MASK, OTHER] = [1, 2, 4, 0x10, 0x20];
const NO_ID = 0xffffffff;
const SEARCH = 1;

type Entry = { tag: number; perm: number; id: number };

function fromMode(mode: number): Entry[] {
  return [
    { tag: USER_OBJ, perm: (mode >> 6) & 7, id: NO_ID },
    { tag: GROUP_OBJ, perm: (mode >> 3) & 7, id: NO_ID },
    { tag: OTHER, perm: mode & 7, id: NO_ID },
  ];
}

function parse(bytes: Uint8Array): Entry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Entry[] = [];
  for (let at = 4; at + 8 <= bytes.length; at += 8) {
    out.push({
      tag: v.getUint16(at, true),
      perm: v.getUint16(at + 2, true),
      id: v.getUint32(at + 4, true),
    });
  }
  return out;
}

function serialize(entries: Entry[]): Uint8Array {
  const bytes = new Uint8Array(4 + 8 * entries.length);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, ACL_VERSION, true);
  entries.forEach((e, i) => {
    v.setUint16(4 + 8 * i, e.tag, true);
    v.setUint16(6 + 8 * i, e.perm, true);
    v.setUint32(8 + 8 * i, e.id, true);
  });
  return bytes;
}

/**
 * The ACL of a directory with mode `mode` and ACL `current` (if any) that
 * also lets `uid` search it; undefined when it does already.
 */
export function withSearch(
  mode: number,
  current: Uint8Array | undefined,
  uid: number,
): Uint8Array | undefined {
  const entries = current ? parse(current) : fromMode(mode);
  const user = entries.find((e) => e.tag === USER && e.id === uid);
  const mask = entries.find((e) => e.tag === MASK);
  if (user && user.perm & SEARCH && (!mask || mask.perm & SEARCH)) return;
  if (user) user.perm |= SEARCH;
  else entries.push({ tag: USER, perm: SEARCH, id: uid });
  if (mask) mask.perm |= SEARCH;
  else {
    const group = entries.find((e) => e.tag === GROUP_OBJ)!;
    entries.push({ tag: MASK, perm: group.perm | SEARCH, id: NO_ID });
  }
  entries.sort((a, b) => a.tag - b.tag || a.id - b.id);
  return serialize(entries);
}

/**
 * Lets host id `uid` search the user's directories above `path` (its real
 * path: a symlink on the way is walked to its target).
 */
function openWay(path: string, uid: number, done: Set<string>) {
  const parts = Deno.realPathSync(path).split("/").filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const dir = `/${parts.slice(0, i).join("/")}`;
    if (done.has(dir)) continue;
    done.add(dir);
    const st = Deno.statSync(dir);
    // Others may search it, or it is not the user's to open.
    if (st.mode! & 0o001 || st.uid !== Deno.uid()) continue;
    const acl = withSearch(st.mode!, fs.lgetxattrBytes(dir, ACL), uid);
    if (acl) fs.lsetxattr(dir, ACL, acl);
  }
}

/**
 * Opens the way to every host path of `spec`, to the spec file at
 * `specPath` (which its root must read) and to `programs` (what it
 * executes) for the container's root.
 */
export function openPaths(
  spec: RuntimeSpec,
  specPath: string,
  programs: string[],
): void {
  const root = spec.idMaps!.uid.find((r) => r.container === 0)!.host;
  const r = spec.rootfs;
  const paths = [
    specPath,
    ...programs,
    r.merged,
    ...("copy" in r ? [r.copy] : [...r.lower, r.upper, r.work]),
    ...Object.values(spec.etcFiles),
    ...spec.mounts.filter((m) => m.type === "bind").map((m) => m.source),
  ];
  const done = new Set<string>();
  for (const p of paths) openWay(p, root, done);
  Deno.chmodSync(specPath, 0o644);
}
