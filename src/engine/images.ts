/**
 * The engine's local images: list (with a reference filter), inspect,
 * history, tag, rmi and prune. Removal asks the containers which images
 * and layers they use: the one place images and containers meet.
 */
import { ContainerStore } from "../container/store.ts";
import {
  type HistoryRow,
  historyRows,
  type ImageRow,
  imageRows,
  inspectImage,
} from "../image/present.ts";
import { localName, parseName } from "../image/reference.ts";
import {
  type ImageUsers,
  pruneImages as pruneStore,
  type Removed,
  removeImages as removeFromStore,
} from "../image/remove.ts";
import { ImageStore } from "../image/store.ts";
import type { Engine } from "./engine.ts";

const images = (e: Engine) => e.store(ImageStore);

/** Whether a row shows what `ref` names: a repository, with a tag if given. */
function rowMatches(ref: string): (r: ImageRow) => boolean {
  const n = parseName(ref);
  const repo = n.registry
    ? (r: string) => r === `${n.registry}/${n.repository}`
    : (r: string) => r.endsWith(`/${n.repository}`);
  return (r) => repo(r.Repository) && (n.tag === undefined || r.Tag === n.tag);
}

/** What `images` asks for. */
export interface ImageQuery {
  /** Only this repository[:tag]. */
  reference?: string;
  /** Full ids (sha256:...). */
  noTrunc?: boolean;
}

/** `images`: one row per name, a `<none>` row for a dangling image. */
export function listImages(e: Engine, q: ImageQuery = {}): ImageRow[] {
  const rows = imageRows(images(e).list(), !!q.noTrunc);
  return q.reference === undefined
    ? rows
    : rows.filter(rowMatches(q.reference));
}

/** The inspect document of one image. */
export function inspectImageRef(
  e: Engine,
  ref: string,
): Record<string, unknown> {
  return inspectImage(images(e).find(ref));
}

/** The history of one image, newest layer first. */
export function imageHistory(e: Engine, ref: string): HistoryRow[] {
  return historyRows(images(e).find(ref));
}

/** Adds `targets` as names of image `source`. */
export async function tagImage(
  e: Engine,
  source: string,
  targets: string[],
): Promise<void> {
  const img = images(e).find(source);
  for (const t of targets) await images(e).tag(img.id, localName(t));
}

/** Which containers use which images and layers. */
function imageUsers(e: Engine): ImageUsers {
  const containers = e.store(ContainerStore);
  return {
    containersOf: (id) =>
      containers.list().filter((c) => c.imageId === id).map((c) => c.id),
    layersInUse: () => new Set(containers.list().flatMap((c) => c.layers)),
  };
}

/** How `removeImages` goes about it. */
export interface RemoveImagesOptions {
  /** Every image. */
  all?: boolean;
  /** Even images containers use, or an id with several names. */
  force?: boolean;
  /** Hears of each name untagged and each image deleted, as it happens. */
  onRemoved?: (r: Removed) => void;
}

/**
 * `rmi`: a name with others left is only untagged; an image a container
 * uses, or an id with several names, is a conflict without `force`.
 */
export async function removeImages(
  e: Engine,
  refs: string[],
  opts: RemoveImagesOptions = {},
): Promise<void> {
  await removeFromStore(images(e), refs, imageUsers(e), opts);
}

/**
 * `image prune`: dangling images (with `all`, every one no container
 * uses), then every blob and layer nothing references; returns the ids.
 */
export async function pruneImages(e: Engine, all = false): Promise<string[]> {
  const gone = await pruneStore(images(e), imageUsers(e), all);
  return gone.map((img) => img.id);
}
