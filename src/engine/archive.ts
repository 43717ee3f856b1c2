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
import { emitEvent } from "../events/emit.ts";

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
  const store = e.store(ImageStore);
  await saveImages(store, refs, format, out, multi);
  const ids = new Set(refs.map((r) => store.find(r).id));
  for (const id of ids) {
    await emitEvent({ type: "image", action: "save", id, name: out ?? "" });
  }
}

/** Loads the images of an archive at `path` (stdin when undefined). */
export async function loadImages(
  e: Engine,
  path?: string,
): Promise<ImageRecord[]> {
  const loaded = await loadArchive(e.store(ImageStore), path);
  // Podman 4.3's name for it.
  await emitEvent({
    type: "image",
    action: "loadfromarchive",
    name: path ?? "",
  });
  return loaded;
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
  const img = await importRootfs(e.store(ImageStore), path, opts);
  // Podman 4.3 tells of the name given, not of the import itself.
  if (opts.reference) {
    await emitEvent({
      type: "image",
      action: "tag",
      id: img.id,
      name: opts.reference,
    });
  }
  return img;
}
