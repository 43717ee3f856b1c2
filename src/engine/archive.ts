/** The engine's image archives: save, load and import. */
import {
  type ArchiveFormat,
  type ImportOptions,
  importRootfs,
  loadArchive,
  saveImages,
} from "../image/archive.ts";
import type { ImageRecord } from "../image/store.ts";
import { ImageStore } from "../image/store.ts";
import type { Engine } from "./engine.ts";

/**
 * Writes images to `out` (stdout when undefined) as `format`; several
 * images only with `multi`, else the other refs name the first (Podman).
 */
export async function saveArchive(
  e: Engine,
  refs: string[],
  format: ArchiveFormat,
  out?: string,
  multi = false,
): Promise<void> {
  await saveImages(e.store(ImageStore), refs, format, out, multi);
}

/** Loads the images of an archive at `path` (stdin when undefined). */
export async function loadImages(
  e: Engine,
  path?: string,
): Promise<ImageRecord[]> {
  return await loadArchive(e.store(ImageStore), path);
}

/**
 * Makes a one-layer image from a rootfs tarball (`-`: stdin), named as
 * `tag` names (a short name goes under localhost/).
 */
export async function importImage(
  e: Engine,
  path: string,
  opts: ImportOptions = {},
): Promise<ImageRecord> {
  return await importRootfs(e.store(ImageStore), path, opts);
}
