/** The engine's file-system views of a container: `diff` and `export`. */
import { exportContainer as exportTree } from "../container/cp.ts";
import {
  type Change,
  containerChanges,
  overlayChanges,
} from "../container/diff.ts";
import { ContainerStore, vfsRoot } from "../container/store.ts";
import { vfsChanges } from "../container/vfs_diff.ts";
import { ImageStore } from "../image/store.ts";
import { isKind, notFound } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";

/**
 * `diff` of a container (its upper dir over its layers) or, when no
 * container has that name, of an image (its top layer over its parents).
 * With `only` (`container diff`, `image diff`), of that kind alone, missing
 * in Podman's words for it.
 */
export function diffObject(
  e: Engine,
  ref: string,
  only?: "container" | "image",
): Change[] {
  const containers = e.store(ContainerStore);
  if (only !== "image") {
    try {
      const c = containers.find(ref);
      if (c.storageDriver === "vfs") {
        return vfsChanges(vfsRoot(containers, c), c.layers);
      }
      return containerChanges(`${containers.dir(c.id)}/upper`, c.layers);
    } catch (err) {
      if (!isKind(err, "not-found")) throw err;
      if (only) throw notFound(`${ref} not found: container not known`);
    }
  }
  const images = e.store(ImageStore);
  const img = images.lookup(ref);
  if (!img) {
    throw notFound(
      only
        ? `${ref} not found: ${ref}: image not known`
        : `${ref} not found: layer not known`,
    );
  }
  const [top, ...below] = images.lowerDirs(img);
  return top === undefined ? [] : overlayChanges(top, below);
}

/** `export`: the container's file system as a tar, to `out`. */
export async function exportContainer(
  e: Engine,
  ref: string,
  out: { write(p: Uint8Array): Promise<number> },
): Promise<void> {
  const containers = e.store(ContainerStore);
  await exportTree(containers, containers.find(ref), out);
}
