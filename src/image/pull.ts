/**
 * Pulling an image: resolve the name to candidate endpoints, fetch the
 * manifest (choosing this platform from an index), download config and
 * layers in parallel, each layer unpacked (once per chain id) while it
 * downloads — every blob checked against its digest and every layer against
 * its diff id before its tree gets its final name — and only then record
 * the image. A failure at any step leaves no record.
 */
import { DigestMismatch } from "../storage/blobs.ts";
import {
  chainIds,
  type Descriptor,
  type ImageConfig,
  type Index,
  isIndex,
  isManifest,
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
import { trace } from "../runtime/trace.ts";
import { type ImageRecord, imageSize, type ImageStore } from "./store.ts";
import { feedFile, type LayerSink, layerSink, unpackLayer } from "./unpack.ts";

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

/** A layer's bytes on their way in: where they go, and the diff id check. */
interface LayerIn {
  sink: LayerSink;
  verify: () => Promise<void>;
}

async function fetchBlob(
  store: ImageStore,
  client: RegistryClient,
  d: Descriptor,
  report: (p: PullProgress) => void,
  layer?: LayerIn,
): Promise<void> {
  if (store.blobs.has(d.digest)) {
    if (layer) {
      await feedFile(store.blobs.path(d.digest), layer.sink);
      await layer.verify();
    }
    report({ kind: "blob-done", digest: d.digest, size: d.size, cached: true });
    return;
  }
  let done = 0;
  await store.blobs.put(d.digest, await client.blob(d.digest), {
    size: d.size,
    onChunk: (c) => {
      done += c.length;
      report({ kind: "blob", digest: d.digest, size: d.size, done });
      return layer?.sink.write(c);
    },
    // Only once the blob's own digest matched: a tampered blob is reported
    // as that, never as the broken layer it makes.
    beforeCommit: layer?.verify,
  });
  report({ kind: "blob-done", digest: d.digest, size: d.size, cached: false });
}

/**
 * Fetches a layer blob (or reads the stored one) and, while its bytes go
 * by, checks its diff id and unpacks it when its chain-id directory is
 * missing: one decompression, during the download. The directory gets its
 * final name only once digest and diff id both matched. Returns the size of
 * the uncompressed tar.
 */
async function fetchLayer(
  store: ImageStore,
  client: RegistryClient,
  layer: { d: Descriptor; diffId: string; chainId: string },
  report: (p: PullProgress) => void,
): Promise<number> {
  const { d, diffId } = layer;
  const dest = store.layerDir(layer.chainId);
  const unpack = !store.hasLayer(layer.chainId);
  // Made first: the helper starts while the request is under way.
  const sink = layerSink(d.mediaType, unpack ? dest : undefined, d.digest);
  const verify = async () => {
    trace("pull-layer-fetched");
    // What is left to wait for: the unpack catching up with the download.
    if (unpack) report({ kind: "unpack", digest: d.digest });
    const got = await sink.end();
    trace("pull-layer-unpacked");
    if (got !== diffId) {
      throw new DigestMismatch(`layer ${d.digest}`, diffId, got);
    }
  };
  try {
    await fetchBlob(store, client, d, report, { sink, verify });
    await sink.commit();
    return sink.size;
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

/**
 * Unpacks each layer of `manifest` (blobs already stored and verified)
 * whose chain-id directory is missing, checking it against its diff id.
 * Shared by images, so a layer is unpacked once whatever number of images
 * use it.
 */
export async function unpackLayers(
  store: ImageStore,
  manifest: Manifest,
  diffIds: string[],
  report: (p: PullProgress) => void = () => {},
): Promise<void> {
  const chains = chainIds(diffIds);
  for (const [i, d] of manifest.layers.entries()) {
    if (store.hasLayer(chains[i])) continue;
    const dest = store.layerDir(chains[i]);
    report({ kind: "unpack", digest: d.digest });
    await unpackLayer(
      store.blobs.path(d.digest),
      d.mediaType,
      dest,
      diffIds[i],
    );
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
  trace("pull-manifest");
  const manifest = parseJson<Manifest>(image.bytes, "image manifest");
  report({
    kind: "resolved",
    ref: formatReference(ref),
    digest: top.digest,
    blobs: manifest.layers,
  });
  await store.blobs.putBytes(top.bytes);
  await store.blobs.putBytes(image.bytes);
  await fetchBlob(store, client, manifest.config, report);
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
  const chains = chainIds(diffIds);
  const layers = manifest.layers.map((d, i) => ({
    d,
    diffId: diffIds[i],
    chainId: chains[i],
  }));
  const tarSizes: number[] = [];
  await inParallel(
    layers.map((l, i) => ({ ...l, i })),
    opts.parallel ?? 3,
    async (l) =>
      void (tarSizes[l.i] = await fetchLayer(store, client, l, report)),
  );
  const size = imageSize(manifest.config.size, tarSizes);
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
  trace("pull-stored");
  report({ kind: "stored", id: img.id });
  return img;
}

/**
 * Whether a registry `name` resolves to holds another image under that
 * name than the local `img` (Podman's `newer`: digests compared, not
 * times). A registry that cannot be reached, or does not have it, has
 * nothing newer: the local image serves, as Podman suppresses the error.
 */
export async function registryHasNewer(
  name: string,
  img: ImageRecord,
  opts: PullOptions = {},
): Promise<boolean> {
  const conf = loadRegistriesConf();
  const local = new Set([
    img.digest,
    ...img.repoDigests.map((d) => d.slice(d.indexOf("@") + 1)),
  ]);
  let refs: Reference[];
  try {
    refs = resolveName(name, conf);
  } catch {
    return false;
  }
  for (const ref of refs) {
    for (const ep of endpoints(ref, conf)) {
      const client = new RegistryClient(ep, opts);
      try {
        const top = await client.manifest(ref.digest ?? ref.tag ?? "latest");
        return !local.has(top.digest);
      } catch {
        // Not there, or not reachable: try the next one.
      } finally {
        client.close();
      }
    }
  }
  return false;
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
