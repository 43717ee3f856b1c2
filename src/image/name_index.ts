/**
 * The names index of the image store: images/index/names.json holds each
 * image's id, names and repo digests, so that finding an image by name
 * reads this file and one record instead of every record (each holds a
 * manifest and a config).
 *
 * The records stay the truth; the index is only trusted while it provably
 * describes them:
 * - a writer removes it before it changes any record and writes it again
 *   after, under the store lock, so a writer killed in between leaves no
 *   index (the next lookup scans and writes one);
 * - it carries a stamp of the records' directory (inode and mtime), which
 *   every record written (renamed in) or removed changes, so a change made
 *   by anything that does not know the index (an older ptd, a hand) makes
 *   it stale. It lives in a subdirectory so that writing it leaves the
 *   stamp alone.
 * Readers still check the one record an answer points at (see store.ts).
 */
import { readJson, writeJsonAtomic } from "../storage/json.ts";
import { ensureDir } from "../storage/paths.ts";

/** What a lookup needs of an image: its id and every name it answers to. */
export interface NameEntry {
  id: string;
  names: string[];
  repoDigests: string[];
}

interface IndexFile {
  version: number;
  stamp: string;
  images: NameEntry[];
}

const VERSION = 1;

const indexDir = (root: string) => `${root}/index`;
const indexPath = (root: string) => `${indexDir(root)}/names.json`;

/** The part of a record the index keeps. */
export function nameEntry(img: NameEntry): NameEntry {
  return { id: img.id, names: img.names, repoDigests: img.repoDigests };
}

/** Whether a record answers to exactly the names its index entry says. */
export function sameNames(img: NameEntry, entry: NameEntry): boolean {
  const same = (a: string[], b: string[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  return img.id === entry.id && same(img.names, entry.names) &&
    same(img.repoDigests, entry.repoDigests);
}

/** The records' directory as it is now; undefined where it cannot be told. */
function stamp(root: string): string | undefined {
  try {
    const s = Deno.statSync(root);
    return s.ino === null || s.mtime === null
      ? undefined
      : `${s.ino}:${s.mtime.getTime()}`;
  } catch {
    return undefined;
  }
}

function isEntry(e: unknown): e is NameEntry {
  const x = e as NameEntry;
  const strings = (a: unknown) =>
    Array.isArray(a) && a.every((s) => typeof s === "string");
  return typeof x?.id === "string" && strings(x.names) &&
    strings(x.repoDigests);
}

/**
 * The index of the store at `root` when it is there and describes the
 * records as they are; undefined when it is missing, unreadable, of
 * another version or stale.
 */
export function readNameIndex(root: string): NameEntry[] | undefined {
  let file: IndexFile | undefined;
  try {
    file = readJson<IndexFile>(indexPath(root));
  } catch {
    return undefined;
  }
  if (
    file?.version !== VERSION || !Array.isArray(file.images) ||
    !file.images.every(isEntry)
  ) return undefined;
  const now = stamp(root);
  return now !== undefined && file.stamp === now ? file.images : undefined;
}

/**
 * Writes `entries` as the index of `root`: call it under the store lock,
 * after the last record change it describes. Where it cannot be written
 * (a full disk, a read-only store), lookups read every record, as before.
 */
export function writeNameIndex(root: string, entries: NameEntry[]): void {
  try {
    // Made before the stamp is taken: creating it changes the records' dir.
    ensureDir(indexDir(root));
    const s = stamp(root);
    if (s === undefined) return;
    const file: IndexFile = { version: VERSION, stamp: s, images: entries };
    writeJsonAtomic(indexPath(root), file);
  } catch { /* only a hint */ }
}

/**
 * Runs `change` (which writes or removes records, under the store lock)
 * with no index in place, then writes `after()` as the index: if `change`
 * fails or the process dies in it, no index is left to be believed.
 */
export function rewritingIndex<T>(
  root: string,
  change: () => T,
  after: () => NameEntry[],
): T {
  try {
    Deno.removeSync(indexPath(root), { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const out = change();
  writeNameIndex(root, after());
  return out;
}
