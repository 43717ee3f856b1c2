/**
 * Pulling an image: resolve the name to candidate endpoints, fetch the
 * manifest (choosing this platform from an index), download config and
 * layers in parallel — every blob checked against its digest and every layer
 * against its diff id on the way in — unpack the layers once per chain id,
 * and only then record the image. A failure at any step leaves no record.
 */
import zlib from "node:zlib";
import { existsSync } from "node:fs";
import { once } from "node:events";
import { createHash } from "node:crypto";
import type { Transform } from "node:stream";
import { DigestMismatch } from "../storage/blobs.ts";
import {
  chainIds,
  type Descriptor,
  type ImageConfig,
  type Index,
  isIndex,
  isManifest,
  layerCompression,
  type Manifest,
  type Platform,
  selectPlatform,
} from "./oci.ts";
import {
  endpoints,
  formatReference,
  loadRegistriesConf,
  type Reference,
  repoName,
  resolveName,
} from "./reference.ts";
import {
  type FetchedManifest,
  RegistryClient,
  RegistryError,
  type RegistryOptions,
  Unreachable,
} from "./registry.ts";
import type { ImageRecord, ImageStore } from "./store.ts";
import { diffIdOf, unpackLayer } from "./unpack.ts";

/** What a pull reports as it goes, for progress displays. */
export type PullProgress =
  | { kind: "trying"; ref: string }
  | { kind: "resolved"; ref: string; digest: string; blobs: Descriptor[] }
  | { kind: "blob"; digest: string; size: number; done: number }
  | { kind: "blob-done"; digest: string; size: number; cached: boolean }
  | { kind: "unpack"; digest: string }
  | { kind: "stored"; id: string };

/** Options of a pull. */
export interface PullOptions extends RegistryOptions {
  onProgress?: (p: PullProgress) => void;
  /** Layers downloaded at once. */
  parallel?: number;
  /** The platform to pick from an index (default: this host's). */
  platform?: Platform;
}

function decompressor(mediaType: string): Transform | undefined {
  switch (layerCompression(mediaType)) {
    case "gzip":
      return zlib.createGunzip();
    case "zstd":
      return zlib.createZstdDecompress();
    default:
      return undefined;
  }
}

/**
 * Hashes a layer's uncompressed content as chunks are fed in; `finish`
 * resolves to the diff id. Feeding waits for the decompressor to drain, so
 * a download faster than decompression does not pile up in memory.
 */
function diffIdHasher(mediaType: string) {
  const hash = createHash("sha256");
  const z = decompressor(mediaType);
  const ended = z
    ? new Promise<void>((resolve, reject) => {
      z.on("data", (c: Uint8Array) => hash.update(c));
      z.on("end", resolve);
      z.on("error", (e: Error) => reject(new Error(`layer: ${e.message}`)));
    })
    : Promise.resolve();
  // A corrupt stream fails long before `finish` awaits it; `quiet` is that
  // failure swallowed, for waits that must not report it early.
  const quiet = ended.catch(() => {});
  return {
    async feed(chunk: Uint8Array) {
      if (!z) hash.update(chunk);
      // A broken stream never drains: its end (an error) ends the wait, and
      // `finish` reports it only after the blob's own digest was checked,
      // which names a tampered blob better than a decompression error.
      else if (!z.write(chunk)) {
        await Promise.race([once(z, "drain").catch(() => {}), quiet]);
      }
    },
    async finish(): Promise<string> {
      z?.end();
      await ended;
      return `sha256:${hash.digest("hex")}`;
    },
  };
}

async function fetchBlob(
  store: ImageStore,
  client: RegistryClient,
  d: Descriptor,
  diffId: string | undefined,
  report: (p: PullProgress) => void,
): Promise<void> {
  const check = (got: string) => {
    if (diffId !== undefined && got !== diffId) {
      throw new DigestMismatch(`layer ${d.digest}`, diffId, got);
    }
  };
  if (store.blobs.has(d.digest)) {
    if (diffId !== undefined) {
      check(await diffIdOf(store.blobs.path(d.digest), d.mediaType));
    }
    report({ kind: "blob-done", digest: d.digest, size: d.size, cached: true });
    return;
  }
  const hasher = diffId === undefined ? undefined : diffIdHasher(d.mediaType);
  let done = 0;
  await store.blobs.put(d.digest, await client.blob(d.digest), {
    size: d.size,
    onChunk: async (c) => {
      await hasher?.feed(c);
      done += c.length;
      report({ kind: "blob", digest: d.digest, size: d.size, done });
    },
    beforeCommit: async () => {
      if (hasher) check(await hasher.finish());
    },
  });
  report({ kind: "blob-done", digest: d.digest, size: d.size, cached: false });
}

/**
 * Unpacks each layer of `manifest` (blobs already stored and verified)
 * whose chain-id directory is missing. Shared by images, so a layer is
 * unpacked once whatever number of images use it.
 */
export async function unpackLayers(
  store: ImageStore,
  manifest: Manifest,
  diffIds: string[],
  report: (p: PullProgress) => void = () => {},
): Promise<void> {
  const chains = chainIds(diffIds);
  for (const [i, d] of manifest.layers.entries()) {
    const dest = store.layerDir(chains[i]);
    if (existsSync(dest)) continue;
    report({ kind: "unpack", digest: d.digest });
    Deno.mkdirSync(store.layersRoot, { recursive: true, mode: 0o700 });
    await unpackLayer(store.blobs.path(d.digest), d.mediaType, dest);
  }
}

/** Runs `fn` over `items` with at most `n` at once. */
async function inParallel<T>(
  items: T[],
  n: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new Error(`${what}: not valid JSON`);
  }
}

/** Fetches the image manifest for this platform, following an index. */
async function platformManifest(
  client: RegistryClient,
  ref: Reference,
  platform: Platform | undefined,
): Promise<{ top: FetchedManifest; image: FetchedManifest }> {
  const top = await client.manifest(ref.digest ?? ref.tag ?? "latest");
  if (isManifest(top.mediaType)) return { top, image: top };
  if (!isIndex(top.mediaType)) {
    throw new Error(
      `${formatReference(ref)}: unsupported manifest type ${
        top.mediaType || "(none)"
      }`,
    );
  }
  const index = parseJson<Index>(top.bytes, "image index");
  const chosen = selectPlatform(index, platform);
  const image = await client.manifest(chosen.digest);
  if (!isManifest(image.mediaType)) {
    throw new Error(`${chosen.digest}: not an image manifest`);
  }
  return { top, image };
}

async function pullFrom(
  store: ImageStore,
  client: RegistryClient,
  ref: Reference,
  opts: PullOptions,
): Promise<ImageRecord> {
  const report = opts.onProgress ?? (() => {});
  const { top, image } = await platformManifest(client, ref, opts.platform);
  const manifest = parseJson<Manifest>(image.bytes, "image manifest");
  report({
    kind: "resolved",
    ref: formatReference(ref),
    digest: top.digest,
    blobs: manifest.layers,
  });
  await store.blobs.putBytes(top.bytes);
  await store.blobs.putBytes(image.bytes);
  await fetchBlob(store, client, manifest.config, undefined, report);
  const config = parseJson<ImageConfig>(
    await store.blobs.read(manifest.config.digest),
    "image config",
  );
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new Error(
      `${
        formatReference(ref)
      }: config lists ${diffIds.length} layers, manifest ${manifest.layers.length}`,
    );
  }
  const layers = manifest.layers.map((d, i) => ({ d, diffId: diffIds[i] }));
  await inParallel(
    layers,
    opts.parallel ?? 3,
    (l) => fetchBlob(store, client, l.d, l.diffId, report),
  );
  await unpackLayers(store, manifest, diffIds, report);
  const size = manifest.config.size +
    manifest.layers.reduce((n, l) => n + l.size, 0);
  const img = await store.commit({
    id: manifest.config.digest.slice("sha256:".length),
    names: ref.tag ? [`${repoName(ref)}:${ref.tag}`] : [],
    repoDigests: [`${repoName(ref)}@${top.digest}`],
    digest: image.digest,
    manifestMediaType: image.mediaType,
    manifest,
    config,
    size,
    stored: new Date().toISOString(),
  });
  report({ kind: "stored", id: img.id });
  return img;
}

/**
 * Pulls `name` into `store`. A short name tries each search registry in
 * turn; each registry tries its mirrors first. Returns the stored image.
 */
export async function pullImage(
  store: ImageStore,
  name: string,
  opts: PullOptions = {},
): Promise<ImageRecord> {
  const conf = loadRegistriesConf();
  const candidates = resolveName(name, conf);
  const errors: string[] = [];
  return await store.writing(async () => {
    for (const ref of candidates) {
      for (const ep of endpoints(ref, conf)) {
        opts.onProgress?.({ kind: "trying", ref: formatReference(ref) });
        const client = new RegistryClient(ep, opts);
        try {
          return await pullFrom(store, client, ref, opts);
        } catch (e) {
          // Moving on is for "not there": a tampered or broken image at the
          // registry itself must not be papered over by the next one.
          const missing = e instanceof Unreachable ||
            (e instanceof RegistryError && [401, 404].includes(e.status));
          if (!ep.mirror && !missing) throw e;
          errors.push((e as Error).message);
        } finally {
          client.close();
        }
      }
    }
    throw new Error(
      errors.length === 1
        ? errors[0]
        : `${name}: no registry has it: ${errors.join("; ")}`,
    );
  });
}
