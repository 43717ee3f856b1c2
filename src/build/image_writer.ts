/**
 * Making a new image on top of another: `commit` and every step of a
 * `build`. A layer tar (a container's upper dir, packed by layer_pack.ts)
 * goes into the blob store and is unpacked as any pulled layer, through
 * the same code as `import` and `load` (archive.ts); the config is the base
 * image's with new runtime defaults and one more history entry.
 */
import {
  Adopter,
  commitImage,
  type StoredLayer,
  storeManifest,
} from "../image/archive.ts";
import {
  type ContainerDefaults,
  type Descriptor,
  type HistoryEntry,
  hostPlatform,
  type ImageConfig,
  MediaType,
} from "../image/oci.ts";
import type { ImageRecord, ImageStore } from "../image/store.ts";

/** What a new image is made of. */
export interface NewImage {
  /** The image it builds on; undefined: scratch. */
  base?: ImageRecord;
  /** A plain layer tar (a temp file of the blob store, moved in), if any. */
  layer?: string;
  /** Runtime defaults of the new image. */
  config: ContainerDefaults;
  /** Its history entry (`created` is filled in). */
  history: HistoryEntry;
  author?: string;
  names?: string[];
  /** Docker's schema 2 media types instead of OCI's (--format docker). */
  docker?: boolean;
  /** A build's step image. */
  intermediate?: boolean;
  /** The creation time (--timestamp); default now. */
  created?: Date;
  /** Leave the base's layers out: the new layer holds the whole tree. */
  squash?: boolean;
}

const DOCKER_LAYER_TYPES: Record<string, string> = {
  [MediaType.ociLayer]: "application/vnd.docker.image.rootfs.diff.tar",
  [MediaType.ociLayerGzip]: MediaType.dockerLayer,
};

/** A layer descriptor in the media types of the manifest it goes in. */
function layerFor(d: Descriptor, docker: boolean): Descriptor {
  if (docker) {
    return { ...d, mediaType: DOCKER_LAYER_TYPES[d.mediaType] ?? d.mediaType };
  }
  const oci = Object.entries(DOCKER_LAYER_TYPES).find(([, v]) =>
    v === d.mediaType
  );
  return oci ? { ...d, mediaType: oci[0] } : d;
}

/**
 * Stores the image `n` describes (its layer moved into the blob store and
 * unpacked) and returns its record.
 */
export async function storeNewImage(
  store: ImageStore,
  n: NewImage,
): Promise<ImageRecord> {
  return await store.writing(async () => {
    const docker = !!n.docker;
    const base = n.squash ? undefined : n.base;
    let layer: StoredLayer | undefined;
    if (n.layer !== undefined) layer = await new Adopter(store).layer(n.layer);
    // Go's RFC 3339 form, trailing zeros of the fraction dropped.
    const created = (n.created ?? new Date()).toISOString()
      .replace(/(\.\d*?)0+Z$/, "$1Z").replace(/\.Z$/, "Z");
    const entry: HistoryEntry = {
      created,
      ...n.history,
      ...(n.author ? { author: n.author } : {}),
      ...(layer ? {} : { empty_layer: true }),
    };
    const config: ImageConfig = {
      created,
      ...(n.author ? { author: n.author } : {}),
      architecture: n.base?.config.architecture ?? hostPlatform().architecture,
      os: n.base?.config.os ?? "linux",
      ...(n.base?.config.variant ? { variant: n.base.config.variant } : {}),
      config: n.config,
      rootfs: {
        type: "layers",
        diff_ids: [
          ...base?.config.rootfs.diff_ids ?? [],
          ...layer ? [layer.diffId] : [],
        ],
      },
      history: [...base?.config.history ?? [], entry],
    };
    const layers = [
      ...base?.manifest.layers ?? [],
      ...layer ? [layer.desc] : [],
    ].map((d) => layerFor(d, docker));
    const manifest = await storeManifest(
      store,
      new TextEncoder().encode(JSON.stringify(config)),
      layers,
      docker,
    );
    const baseSize = base ? base.size - base.manifest.config.size : 0;
    return await commitImage(
      store,
      manifest,
      docker ? MediaType.dockerManifest : MediaType.ociManifest,
      n.names ?? [],
      [baseSize, layer?.tarSize ?? 0],
      !!n.intermediate,
    );
  });
}

/**
 * `img` with `annotations` in its manifest (build --annotation): the same
 * config, so the same image id, under a new manifest digest.
 */
export async function annotateImage(
  store: ImageStore,
  img: ImageRecord,
  annotations: Record<string, string>,
): Promise<ImageRecord> {
  const manifest = {
    ...img.manifest,
    annotations: { ...img.manifest.annotations, ...annotations },
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  await store.blobs.putBytes(bytes);
  return await commitImage(
    store,
    bytes,
    img.manifestMediaType,
    img.names,
    [img.size - img.manifest.config.size],
  );
}
