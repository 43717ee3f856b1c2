/**
 * Removing images (rmi, image prune) by Docker's rules, as a library: a
 * name with others left is only untagged, an id with several names or an
 * image a container uses needs force, and what no image references any
 * more (blobs, layer trees) is collected — except layers containers use.
 */
import { emitEvent } from "../events/emit.ts";
import { conflict, invalid, isKind } from "../runtime/errors.ts";
import type { ImageRecord, ImageStore } from "./store.ts";

/** What the container side tells image removal. */
export interface ImageUsers {
  /** Ids of the containers created from image `id`. */
  containersOf(id: string): string[];
  /** Layer dirs containers run on, whatever becomes of their images. */
  layersInUse(): Set<string>;
}

/** One step of a removal, as `rmi` prints it. */
export type Removed =
  | { kind: "untagged"; name: string }
  | { kind: "deleted"; id: string };

/** Options of `removeImages`. */
export interface RemoveOptions {
  /** Remove images containers use (their layers stay until they go). */
  force?: boolean;
  /** Every image (rmi -a): an id with several names is no conflict. */
  all?: boolean;
  /** rmi -i: a name that is not there is passed over. */
  ignore?: boolean;
  onRemoved?: (r: Removed) => void;
}

async function removeOne(
  store: ImageStore,
  ref: string,
  users: ImageUsers,
  opts: RemoveOptions,
) {
  const report = opts.onRemoved ?? (() => {});
  const img = store.find(ref);
  const asName = store.nameFor(ref, img);
  if (asName && img.names.length > 1) {
    await store.untag(img.id, asName);
    await emitEvent({
      type: "image",
      action: "untag",
      id: img.id,
      name: asName,
    });
    report({ kind: "untagged", name: asName });
    return;
  }
  if (!asName && img.names.length > 1 && !opts.all && !opts.force) {
    // The request must say which (a name, or -f): Podman's rmi ends with
    // 125 here; its 2 is for an image in use, a conflict.
    throw invalid(
      `unable to delete image ${
        img.id.slice(0, 12)
      } by ID with more than one tag (${img.names.join(", ")}): use -f`,
    );
  }
  const containers = users.containersOf(img.id);
  if (containers.length > 0 && !opts.force) {
    throw conflict(
      `image used by ${
        containers[0]
      }: image is in use by a container (use -f to remove it anyway)`,
    );
  }
  await store.delete(img.id);
  for (const name of img.names) {
    await emitEvent({ type: "image", action: "untag", id: img.id, name });
    report({ kind: "untagged", name });
  }
  await emitEvent({
    type: "image",
    action: "remove",
    id: img.id,
    name: asName,
  });
  report({ kind: "deleted", id: img.id });
}

/**
 * Removes `refs` (or every image with `all`), then collects garbage — also
 * when one of them fails, so what was removed does not linger.
 */
export async function removeImages(
  store: ImageStore,
  refs: string[],
  users: ImageUsers,
  opts: RemoveOptions = {},
): Promise<void> {
  const targets = opts.all ? store.list().map((i) => i.id) : refs;
  if (targets.length === 0 && !opts.all) {
    throw invalid("image name or ID must be specified");
  }
  try {
    for (const ref of targets) {
      try {
        await removeOne(store, ref, users, opts);
      } catch (e) {
        if (!opts.ignore || !isKind(e, "not-found")) throw e;
      }
    }
  } finally {
    await store.collectGarbage(users.layersInUse());
  }
}

/**
 * `image prune`: removes dangling images (every unused one with `all`)
 * that are `chosen`, and everything no image references; returns the
 * removed images.
 */
export async function pruneImages(
  store: ImageStore,
  users: ImageUsers,
  all = false,
  chosen: (img: ImageRecord) => boolean = () => true,
): Promise<ImageRecord[]> {
  const removed: ImageRecord[] = [];
  for (const img of store.list()) {
    if (!chosen(img) || users.containersOf(img.id).length > 0) continue;
    if (!all && img.names.length > 0) continue;
    await store.delete(img.id);
    removed.push(img);
  }
  await store.collectGarbage(users.layersInUse());
  return removed;
}
