/**
 * Pushing an image: uncompressed layers are gzipped first (what every
 * registry and client accepts), or compressed as --compression-format
 * says, the manifest written in the kind --format names (oci or Docker's
 * v2s2), blobs the repository already has are skipped, then the config and
 * the manifest go up. The manifest pushed is the stored one when nothing
 * had to change, so digests survive a round trip.
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

/** The manifest formats `push --format` names (v2s1 is refused). */
export type PushFormat = "oci" | "v2s2";

/** Options of a push. */
export interface PushOptions extends RegistryOptions {
  onProgress?: (p: PushProgress) => void;
  /** --format: the manifest's kind; absent, the stored one's. */
  format?: PushFormat;
  /** --compression-format: layers compressed otherwise are recompressed. */
  compression?: "gzip" | "zstd";
}

const ZSTD_IN_V2S2 =
  "a v2s2 manifest cannot name zstd layers: push with --format oci";

/** Checks --format and --compression-format as Podman does. */
export function checkPushOptions(
  format: string | undefined,
  compression: string | undefined,
): { format?: PushFormat; compression?: "gzip" | "zstd" } {
  if (format !== undefined && !["oci", "v2s1", "v2s2"].includes(format)) {
    throw invalid(
      `unknown format "${format}". Choose on of the supported formats: 'oci', 'v2s1', or 'v2s2'`,
    );
  }
  if (format === "v2s1") {
    throw invalid(
      "manifest type v2s1 (Docker schema 1) is not supported: registries refuse it, push v2s2 or oci",
    );
  }
  if (
    compression !== undefined && compression !== "gzip" &&
    compression !== "zstd"
  ) {
    throw invalid(`cannot find compressor for "${compression}"`);
  }
  if (format === "v2s2" && compression === "zstd") throw invalid(ZSTD_IN_V2S2);
  return { format: format as PushFormat | undefined, compression };
}

/** The media types of each manifest kind, by layer compression. */
const KINDS = {
  oci: {
    manifest: MediaType.ociManifest,
    config: MediaType.ociConfig,
    gzip: MediaType.ociLayerGzip,
    zstd: MediaType.ociLayerZstd,
  },
  v2s2: {
    manifest: MediaType.dockerManifest,
    config: MediaType.dockerConfig,
    gzip: MediaType.dockerLayer,
    zstd: undefined,
  },
} as const;

/**
 * A stored layer as `compression` wants it: the same blob when it is
 * already so, else decompressed and compressed again into a new blob.
 */
async function compressedLayer(
  store: ImageStore,
  d: Descriptor,
  compression: "gzip" | "zstd",
): Promise<{ digest: string; size: number }> {
  const now = layerCompression(d.mediaType);
  if (now === compression) return d;
  const tmp = store.blobs.tempPath();
  const input = createReadStream(store.blobs.path(d.digest));
  const plain = now === "gzip"
    ? input.pipe(zlib.createGunzip())
    : now === "zstd"
    ? input.pipe(zlib.createZstdDecompress())
    : input;
  await pipeline(
    plain,
    compression === "gzip" ? zlib.createGzip() : zlib.createZstdCompress(),
    createWriteStream(tmp, { flags: "wx" }),
  );
  const digest = await store.blobs.adopt(tmp);
  return { digest, size: store.blobs.size(digest) };
}

/** The stored manifest's kind. */
function kindOf(mediaType: string | undefined): PushFormat {
  return mediaType === MediaType.dockerManifest ? "v2s2" : "oci";
}

/**
 * The manifest to push: the stored one when nothing has to change (so
 * digests survive a round trip), else one with the layers compressed as
 * asked (plain ones gzipped) and the media types of `opts.format`.
 */
async function manifestToPush(
  store: ImageStore,
  img: ImageRecord,
  opts: PushOptions,
): Promise<
  { manifest: Manifest; mediaType: string; bytes: Uint8Array<ArrayBuffer> }
> {
  const stored = kindOf(img.manifestMediaType ?? img.manifest.mediaType);
  const kind = KINDS[opts.format ?? stored];
  const wanted = (l: Descriptor) => {
    const now = layerCompression(l.mediaType);
    return opts.compression ?? (now === "none" ? "gzip" : now);
  };
  const same = kind === KINDS[stored] &&
    img.manifest.layers.every((l) =>
      layerCompression(l.mediaType) === wanted(l)
    );
  if (same) {
    return {
      manifest: img.manifest,
      mediaType: img.manifestMediaType,
      bytes: await store.blobs.read(img.digest) as Uint8Array<ArrayBuffer>,
    };
  }
  const layers: Descriptor[] = [];
  for (const l of img.manifest.layers) {
    const compression = wanted(l);
    const mediaType = kind[compression];
    if (mediaType === undefined) throw invalid(ZSTD_IN_V2S2);
    const { digest, size } = await compressedLayer(store, l, compression);
    layers.push({ ...l, mediaType, digest, size });
  }
  // Podman leaves the media type out of an OCI manifest.
  const manifest: Manifest = {
    schemaVersion: 2,
    ...(kind === KINDS.v2s2 ? { mediaType: kind.manifest } : {}),
    config: { ...img.manifest.config, mediaType: kind.config },
    layers,
    ...(img.manifest.annotations
      ? { annotations: img.manifest.annotations }
      : {}),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  return { manifest, mediaType: kind.manifest, bytes };
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
  const { manifest, mediaType, bytes } = await manifestToPush(
    store,
    img,
    opts,
  );
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
