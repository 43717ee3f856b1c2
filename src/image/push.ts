/**
 * Pushing an image: uncompressed layers are gzipped first (what every
 * registry and client accepts), blobs the repository already has are
 * skipped, then the config and the manifest go up. The manifest pushed is
 * the stored one when nothing had to change, so digests survive a round trip.
 */
import { invalid } from "../runtime/errors.ts";
import zlib from "node:zlib";
import { pipeline } from "node:stream/promises";
import { createReadStream, createWriteStream } from "node:fs";
import { digestOf } from "../storage/blobs.ts";
import {
  type Descriptor,
  layerCompression,
  type Manifest,
  MediaType,
} from "./oci.ts";
import {
  endpoints,
  loadRegistriesConf,
  parseReference,
  repoName,
} from "./reference.ts";
import { RegistryClient, type RegistryOptions } from "./registry.ts";
import type { ImageRecord, ImageStore } from "./store.ts";

/** What a push reports as it goes. */
export type PushProgress =
  | {
    kind: "blob";
    digest: string;
    size: number;
    skipped: boolean;
    config: boolean;
  }
  | { kind: "manifest"; digest: string };

/** Options of a push. */
export interface PushOptions extends RegistryOptions {
  onProgress?: (p: PushProgress) => void;
}

/** Gzips a stored plain-tar layer into a new blob; returns its descriptor. */
async function gzipLayer(
  store: ImageStore,
  d: Descriptor,
): Promise<Descriptor> {
  const tmp = store.blobs.tempPath();
  await pipeline(
    createReadStream(store.blobs.path(d.digest)),
    zlib.createGzip(),
    createWriteStream(tmp, { flags: "wx" }),
  );
  const digest = await store.blobs.adopt(tmp);
  return {
    mediaType: d.mediaType === MediaType.ociLayer
      ? MediaType.ociLayerGzip
      : MediaType.dockerLayer,
    digest,
    size: store.blobs.size(digest),
  };
}

/** The manifest to push: the stored one, with plain layers gzipped. */
async function manifestToPush(
  store: ImageStore,
  img: ImageRecord,
): Promise<
  { manifest: Manifest; mediaType: string; bytes: Uint8Array<ArrayBuffer> }
> {
  const plain = img.manifest.layers.some((l) =>
    layerCompression(l.mediaType) === "none"
  );
  if (!plain) {
    return {
      manifest: img.manifest,
      mediaType: img.manifestMediaType,
      bytes: await store.blobs.read(img.digest) as Uint8Array<ArrayBuffer>,
    };
  }
  const layers: Descriptor[] = [];
  for (const l of img.manifest.layers) {
    layers.push(
      layerCompression(l.mediaType) === "none" ? await gzipLayer(store, l) : l,
    );
  }
  const manifest = { ...img.manifest, layers };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  return {
    manifest,
    mediaType: manifest.mediaType ?? MediaType.ociManifest,
    bytes,
  };
}

/**
 * Pushes the local image `source` to `dest` (default: its own name).
 * Returns the pushed manifest's digest.
 */
export async function pushImage(
  store: ImageStore,
  source: string,
  dest: string | undefined,
  opts: PushOptions = {},
): Promise<string> {
  const img = store.find(source);
  const target = dest ?? source;
  const ref = parseReference(target);
  if (!dest && !img.names.includes(`${repoName(ref)}:${ref.tag}`)) {
    throw invalid(`${source}: give a destination (registry/repository:tag)`);
  }
  const report = opts.onProgress ?? (() => {});
  const { manifest, mediaType, bytes } = await manifestToPush(store, img);
  const [ep] = endpoints(ref, loadRegistriesConf(), true);
  const client = new RegistryClient(ep, opts, true);
  try {
    for (const d of [...manifest.layers, manifest.config]) {
      const skipped = await client.hasBlob(d.digest);
      if (!skipped) {
        await client.uploadBlob(d.digest, store.blobs.path(d.digest));
      }
      report({
        kind: "blob",
        digest: d.digest,
        size: d.size,
        skipped,
        config: d === manifest.config,
      });
    }
    const digest = digestOf(bytes);
    await client.putManifest(
      ref.digest ?? ref.tag ?? "latest",
      mediaType,
      bytes,
    );
    report({ kind: "manifest", digest });
    return digest;
  } finally {
    client.close();
  }
}
