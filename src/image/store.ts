/**
 * Images on disk: data/images/<id>.json (manifest, config, names, digests),
 * with the blobs they reference under data/blobs and their unpacked layers
 * under data/layers/<chain-id>. An image id is its config digest, as in
 * Docker and Podman. Every change happens under images/.lock; a record is
 * written only once everything it references is in place, so a failed pull
 * leaves no half image, only unreferenced blobs that `prune` collects.
 * Names are found through an index of them (name_index.ts), a hint that
 * every answer is checked against.
 */
import { PtdError } from "../runtime/errors.ts";
import { BlobStore, digestHex } from "../storage/blobs.ts";
import { readJson, withLock, writeJsonAtomic } from "../storage/json.ts";
import { copiedLayer, ensureDir, type StorePaths } from "../storage/paths.ts";
import { removeTrees } from "../storage/remove.ts";
import {
  type NameEntry,
  nameEntry,
  readNameIndex,
  rewritingIndex,
  sameNames,
  writeNameIndex,
} from "./name_index.ts";
import { chainIds, type ImageConfig, type Manifest } from "./oci.ts";
import {
  formatReference,
  loadRegistriesConf,
  parseName,
  type RegistriesConf,
  resolveName,
} from "./reference.ts";

/** One stored image. */
export interface ImageRecord {
  /** Hex of the config digest. */
  id: string;
  /** Tags: "registry/repo:tag"; empty for a dangling image. */
  names: string[];
  /** "registry/repo@sha256:..." for each place the manifest came from. */
  repoDigests: string[];
  /** Digest of `manifest` as stored (the registry's manifest digest). */
  digest: string;
  manifestMediaType: string;
  manifest: Manifest;
  config: ImageConfig;
  /** Bytes of the uncompressed layers and the config (see imageSize). */
  size: number;
  /** When ptd stored it. */
  stored: string;
  /** A build's step image: `images` lists it only with -a while unnamed. */
  intermediate?: boolean;
}

/**
 * An image's size as Podman reports it, whatever way it came (pulled
 * compressed, loaded plain): its config and its layers' uncompressed tars.
 */
export function imageSize(configSize: number, tarSizes: number[]): number {
  return tarSizes.reduce((n, s) => n + s, configSize);
}

/** A user-facing error for a name or id nothing matches. */
export class NoSuchImage extends PtdError {
  constructor(ref: string) {
    super("not-found", `${ref}: image not known`);
  }
}

/** The image store of one user. */
export class ImageStore {
  readonly root: string;
  readonly blobs: BlobStore;
  readonly layersRoot: string;

  constructor(readonly paths: StorePaths) {
    this.root = `${paths.data}/images`;
    this.blobs = new BlobStore(paths.data);
    this.layersRoot = `${paths.data}/layers`;
  }

  /** Directory an unpacked layer lives in, by chain id. */
  layerDir(chainId: string): string {
    return `${this.layersRoot}/${digestHex(chainId)}`;
  }

  /** Whether the layer tree of `chainId` is unpacked. */
  hasLayer(chainId: string): boolean {
    try {
      Deno.statSync(this.layerDir(chainId));
      return true;
    } catch {
      return false;
    }
  }

  /** Whether every layer tree of an image is unpacked. */
  hasLayers(img: ImageRecord): boolean {
    return chainIds(img.config.rootfs.diff_ids).every((c) => this.hasLayer(c));
  }

  /** The lower dirs of an image, top layer first (overlay's order). */
  lowerDirs(img: ImageRecord): string[] {
    return chainIds(img.config.rootfs.diff_ids).map((c) => this.layerDir(c))
      .reverse();
  }

  /** Every image, newest first. */
  list(): ImageRecord[] {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.root)];
    } catch {
      return [];
    }
    const out: ImageRecord[] = [];
    for (const e of entries) {
      if (!e.isFile || !/^[a-f0-9]{64}\.json$/.test(e.name)) continue;
      const r = readJson<ImageRecord>(`${this.root}/${e.name}`);
      if (r) out.push(r);
    }
    return out.sort((a, b) =>
      (b.config.created ?? b.stored).localeCompare(a.config.created ?? a.stored)
    );
  }

  /** An image by id, or undefined. */
  get(id: string): ImageRecord | undefined {
    return readJson<ImageRecord>(`${this.root}/${id}.json`);
  }

  /**
   * Finds an image by full name, short name (through registries.conf's
   * search list, then any registry with a unique match), id or id prefix.
   * The names index answers, and the one record it points at must say the
   * same names; otherwise (no index, a stale one, a name it lacks) every
   * record is read, and the index written again.
   */
  lookup(
    ref: string,
    conf: RegistriesConf = loadRegistriesConf(),
  ): ImageRecord | undefined {
    const index = readNameIndex(this.root);
    if (index) {
      const hint = pick(index, ref, conf);
      if (!hint) {
        // Trusted, the index knows no such image; a scan costs little next
        // to what follows a miss (a pull, an error), and mends a wrong one.
        const found = pick(this.list(), ref, conf);
        if (found) this.#reindex();
        return found;
      }
      const img = this.#peek(hint.id);
      if (img && sameNames(img, hint)) return img;
    }
    return pick(this.#reindex(), ref, conf);
  }

  /** A record, or undefined where it is missing or unreadable. */
  #peek(id: string): ImageRecord | undefined {
    try {
      return this.get(id);
    } catch {
      return undefined;
    }
  }

  /**
   * Every image; read under the store lock (its shared side: readers do
   * not exclude each other) when no writer holds it, and then written as
   * the names index. A reader never waits for a writer: while one works,
   * it only reads.
   */
  #reindex(): ImageRecord[] {
    const lock = tryLock(`${this.root}/.lock`);
    if (!lock) return this.list();
    try {
      const all = this.list();
      writeNameIndex(this.root, all.map(nameEntry));
      return all;
    } finally {
      lock.close();
    }
  }

  /** Which of `img`'s names `ref` denotes (undefined for an id). */
  nameFor(
    ref: string,
    img: ImageRecord,
    conf: RegistriesConf = loadRegistriesConf(),
  ): string | undefined {
    return img.names.find(exactNames(ref, conf)) ??
      img.names.find(suffixNames(ref, conf));
  }

  /** Like lookup, but throws NoSuchImage. */
  find(ref: string): ImageRecord {
    const img = this.lookup(ref);
    if (!img) throw new NoSuchImage(ref);
    return img;
  }

  /** Runs `fn` under the store lock. */
  async locked<T>(fn: () => T | Promise<T>): Promise<T> {
    ensureDir(this.root);
    return await withLock(`${this.root}/.lock`, fn);
  }

  /**
   * Runs `fn`, which changes records, under the store lock, with the names
   * of every image (from the index when it holds, else from the records)
   * for it to keep up to date; they become the new index.
   */
  async #change<T>(fn: (index: Map<string, NameEntry>) => T): Promise<T> {
    return await this.locked(() => {
      const entries = readNameIndex(this.root) ?? this.list().map(nameEntry);
      const index = new Map(entries.map((e) => [e.id, e]));
      return rewritingIndex(
        this.root,
        () => fn(index),
        () => [...index.values()],
      );
    });
  }

  #write(img: ImageRecord, index: Map<string, NameEntry>) {
    writeJsonAtomic(`${this.root}/${img.id}.json`, img);
    index.set(img.id, nameEntry(img));
  }

  /** Takes `names` away from every image but `keepId` (a tag names one image). */
  #release(names: string[], keepId: string, index: Map<string, NameEntry>) {
    for (const entry of index.values()) {
      if (entry.id === keepId || !entry.names.some((n) => names.includes(n))) {
        continue;
      }
      const other = this.get(entry.id);
      if (!other) {
        index.delete(entry.id);
        continue;
      }
      const left = other.names.filter((n) => !names.includes(n));
      if (left.length !== other.names.length) {
        this.#write({ ...other, names: left }, index);
      }
    }
  }

  /**
   * Records an image whose blobs and layers are all stored, merging names
   * and digests with an existing record of the same id.
   */
  async commit(img: ImageRecord): Promise<ImageRecord> {
    return await this.#change((index) => {
      const old = this.get(img.id);
      const merged: ImageRecord = {
        ...img,
        names: [...new Set([...(old?.names ?? []), ...img.names])],
        repoDigests: [
          ...new Set([...(old?.repoDigests ?? []), ...img.repoDigests]),
        ],
      };
      this.#release(img.names, img.id, index);
      this.#write(merged, index);
      return merged;
    });
  }

  /** Adds a name to an image (moving it off any other image). */
  async tag(id: string, name: string): Promise<void> {
    await this.#change((index) => {
      const img = this.get(id);
      if (!img) throw new NoSuchImage(id);
      this.#release([name], id, index);
      if (!img.names.includes(name)) {
        this.#write({ ...img, names: [...img.names, name] }, index);
      }
    });
  }

  /** Removes a name; returns the image, which may now have none left. */
  async untag(id: string, name: string): Promise<ImageRecord> {
    return await this.#change((index) => {
      const img = this.get(id);
      if (!img) throw new NoSuchImage(id);
      const next = {
        ...img,
        names: img.names.filter((n) => n !== name),
        repoDigests: img.repoDigests.filter((d) =>
          img.names.some((n) => n !== name && d.startsWith(`${repoOf(n)}@`))
        ),
      };
      this.#write(next, index);
      return next;
    });
  }

  /** Deletes an image record (blobs and layers go with `prune`). */
  async delete(id: string): Promise<void> {
    await this.#change((index) => {
      try {
        Deno.removeSync(`${this.root}/${id}.json`);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      index.delete(id);
    });
  }

  /**
   * Runs a writer of blobs and layers (a pull, a load) holding the shared
   * side of the garbage-collection lock: what it stored before committing
   * its image is not garbage yet. Temps of killed writers go first.
   */
  async writing<T>(fn: () => Promise<T>): Promise<T> {
    return await this.#gcLock(false, async () => {
      await this.blobs.removeTemps(true);
      return await fn();
    });
  }

  async #gcLock<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    ensureDir(this.root);
    return await withLock(`${this.root}/.gc.lock`, fn, exclusive);
  }

  /**
   * Removes blobs and layer trees no image references (and, with `temps`,
   * temp files of interrupted writers). `keepLayers` are layer dirs
   * containers still use. Waits for running pulls (see `writing`) to
   * finish first.
   */
  async collectGarbage(
    keepLayers: Set<string> = new Set(),
    temps = true,
  ): Promise<{ blobs: string[]; layers: string[] }> {
    return await this.#gcLock(true, () =>
      this.locked(async () => {
        const blobsUsed = new Set<string>();
        const layersUsed = new Set(keepLayers);
        for (const img of this.list()) {
          blobsUsed.add(img.digest);
          blobsUsed.add(img.manifest.config.digest);
          for (const l of img.manifest.layers) blobsUsed.add(l.digest);
          for (const d of this.lowerDirs(img)) layersUsed.add(d);
        }
        const blobs = this.blobs.list().filter((d) => !blobsUsed.has(d));
        this.blobs.remove(blobs);
        if (temps) await this.blobs.removeTemps();
        let layers: string[] = [];
        try {
          layers = [...Deno.readDirSync(this.layersRoot)]
            .map((e) => `${this.layersRoot}/${e.name}`)
            // A re-owned copy (storage/reown.ts) goes with its layer.
            .filter((p) => !layersUsed.has(copiedLayer(p)));
        } catch { /* no layers yet */ }
        await removeTrees(layers);
        return { blobs, layers };
      }));
  }
}

/**
 * The one image `ref` names: an id prefix only one id has, else the images
 * with a name `ref` resolves to, else those with a name ending as a short
 * `ref` does; several at one step are no answer.
 */
function pick<T extends NameEntry>(
  all: T[],
  ref: string,
  conf: RegistriesConf,
): T | undefined {
  const hex = ref.startsWith("sha256:") ? ref.slice(7) : ref;
  if (/^[a-f0-9]{3,64}$/.test(hex)) {
    const hits = all.filter((i) => i.id.startsWith(hex));
    if (hits.length === 1) return hits[0];
  }
  for (const pass of [exactNames, suffixNames]) {
    const match = pass(ref, conf);
    const hits = all.filter((i) => [...i.names, ...i.repoDigests].some(match));
    if (hits.length > 0) return hits.length === 1 ? hits[0] : undefined;
  }
  return undefined;
}

/** The shared side of the lock at `path`, unless a writer holds it now. */
function tryLock(path: string): Deno.FsFile | undefined {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { create: true, write: true, mode: 0o600 });
  } catch {
    return undefined; // no store yet, or not ours to write
  }
  if (f.tryLockSync(false)) return f;
  f.close();
  return undefined;
}

/** Matches the names `ref` resolves to through registries.conf. */
function exactNames(ref: string, conf: RegistriesConf): (n: string) => boolean {
  let names: string[];
  try {
    names = resolveName(ref, conf).map(formatReference);
  } catch {
    return () => false;
  }
  return (n) => names.includes(n);
}

/** Matches a short name at any registry ("busybox" -> "*\/busybox:latest"). */
function suffixNames(
  ref: string,
  conf: RegistriesConf,
): (n: string) => boolean {
  let n: ReturnType<typeof parseName>;
  try {
    n = parseName(ref);
  } catch {
    return () => false;
  }
  if (n.registry || conf.aliases[n.repository]) return () => false;
  const suffix = `/${n.repository}${
    n.digest ? `@${n.digest}` : `:${n.tag ?? "latest"}`
  }`;
  return (name) => name.endsWith(suffix);
}

function repoOf(name: string): string {
  return name.replace(/[:@][^/]*$/, "");
}
