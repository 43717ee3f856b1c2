/**
 * The build cache: for each step, the image it made, under a key of what
 * decides its result (the parent image, the instruction after expansion,
 * for COPY/ADD the digest of what they copy, for RUN the build arguments
 * in its environment). One small file per key under data/build-cache, so a
 * hit costs one read and a look at the image's record: no container, no
 * layer read. Entries of images since removed (`image prune`) are misses.
 */
import { digestHex, digestOf } from "../storage/blobs.ts";
import { ensureDir } from "../storage/paths.ts";
import type { ImageRecord, ImageStore } from "../image/store.ts";

/** The cache of one store. */
export class BuildCache {
  private readonly dir: string;

  constructor(private readonly images: ImageStore, data: string) {
    this.dir = `${data}/build-cache`;
  }

  /** The key of a step's inputs. */
  key(parts: unknown[]): string {
    return digestHex(digestOf(JSON.stringify(parts)));
  }

  /**
   * The image stored under `key`, if it is still there and (with `ttlMs`)
   * was made less than that long ago.
   */
  get(key: string, ttlMs?: number): ImageRecord | undefined {
    let id: string;
    try {
      const path = `${this.dir}/${key}`;
      if (ttlMs !== undefined) {
        const at = Deno.statSync(path).mtime?.getTime() ?? 0;
        if (Date.now() - at > ttlMs) return undefined;
      }
      id = Deno.readTextFileSync(path).trim();
    } catch {
      return undefined;
    }
    const img = this.images.get(id);
    return img && this.images.hasLayers(img) ? img : undefined;
  }

  /** Records that the step of `key` made `img`. */
  put(key: string, img: ImageRecord): void {
    ensureDir(this.dir);
    const tmp = `${this.dir}/.${key}.${crypto.randomUUID().slice(0, 8)}`;
    Deno.writeTextFileSync(tmp, img.id);
    Deno.renameSync(tmp, `${this.dir}/${key}`);
  }
}
