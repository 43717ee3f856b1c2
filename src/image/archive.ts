/**
 * Image archives: `save` writes docker-archive (manifest.json, config and
 * uncompressed layer tars) or oci-archive (an OCI image layout in a tar),
 * `load` reads either (detected from the content) and `import` makes a
 * one-layer image from a rootfs tarball. What ptd writes, Podman and Docker
 * load; what they save, ptd loads.
 *
 * An archive is hostile like a layer: its member names only ever key a map
 * (never a host path), every blob is checked against its digest and every
 * layer against its diff id, and an image is recorded only once its blobs
 * and layers are in place.
 */
import { invalid, notFound } from "../runtime/errors.ts";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import tar from "tar-stream";
import { digestHex, DigestMismatch } from "../storage/blobs.ts";
import {
  chainIds,
  type ContainerDefaults,
  type Descriptor,
  hostPlatform,
  type ImageConfig,
  type Index,
  isIndex,
  layerCompression,
  type Manifest,
  MediaType,
  selectPlatform,
} from "./oci.ts";
import { formatReference, localName, parseReference } from "./reference.ts";
import { type ImageRecord, imageSize, type ImageStore } from "./store.ts";
import { diffIdOf, layerTar, sniffCompression, unpackLayer } from "./unpack.ts";

/** The archive formats of `save`. */
export type ArchiveFormat = "docker-archive" | "oci-archive";

const REF_NAME = "org.opencontainers.image.ref.name";
const enc = new TextEncoder();
const json = (v: unknown) => enc.encode(JSON.stringify(v));

/** Where an archive comes from: a file, or stdin when undefined. */
function openInput(path: string | undefined): Readable {
  if (path === undefined) {
    if (Deno.stdin.isTerminal()) {
      throw invalid("no archive on stdin: pipe one in or give a file");
    }
    return Readable.fromWeb(Deno.stdin.readable as never);
  }
  try {
    if (!Deno.statSync(path).isFile) throw invalid(`${path}: not a file`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw notFound(`${path}: no such file`);
    }
    throw e;
  }
  return createReadStream(path);
}

/** The stream with gzip undone when it starts with gzip's magic. */
export async function gunzipped(src: Readable): Promise<Readable> {
  const it = src[Symbol.asyncIterator]();
  const first = await it.next();
  const head: Uint8Array = first.done ? new Uint8Array() : first.value;
  async function* all() {
    if (!first.done) yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const whole = Readable.from(all());
  if (head[0] !== 0x1f || head[1] !== 0x8b) return whole;
  const z = zlib.createGunzip();
  whole.on("error", (e) => z.destroy(e));
  return whole.pipe(z);
}

/**
 * The members of an archive, unpacked as numbered temp files in `dir` (on
 * the blob store's file system, so blobs can be moved into place). Symlinks
 * (old `docker save` links duplicate layers) are resolved within the map.
 */
class Members {
  private files = new Map<string, string>();
  private links = new Map<string, string>();
  constructor(private readonly dir: string) {}

  static async read(src: Readable, dir: string): Promise<Members> {
    const m = new Members(dir);
    const extract = tar.extract();
    src.on("error", (e) => extract.destroy(e));
    src.pipe(extract);
    let n = 0;
    try {
      for await (const entry of extract) {
        const name = normalize(entry.header.name);
        if (entry.header.type === "symlink" && entry.header.linkname) {
          const base = name.includes("/") ? name.replace(/\/[^/]*$/, "/") : "";
          m.links.set(name, normalize(base + entry.header.linkname));
        } else if (entry.header.type === "file") {
          const path = `${dir}/${n++}`;
          const f = await Deno.open(path, { write: true, createNew: true });
          try {
            for await (const c of entry) await writeAll(f, c as Uint8Array);
          } finally {
            f.close();
          }
          m.files.set(name, path);
          continue;
        }
        entry.resume();
      }
    } catch (e) {
      throw invalid(`not a valid image archive: ${(e as Error).message}`);
    }
    return m;
  }

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  private resolve(name: string): string | undefined {
    let n = normalize(name);
    for (let hops = 0; hops < 16 && !this.files.has(n); hops++) {
      const next = this.links.get(n);
      if (next === undefined) return undefined;
      n = next;
    }
    return this.files.get(n);
  }

  /** The temp file of member `name`; throws when the archive lacks it. */
  path(name: string): string {
    const p = this.resolve(name);
    if (!p) throw invalid(`image archive has no ${JSON.stringify(name)}`);
    return p;
  }

  async json<T>(name: string): Promise<T> {
    try {
      return JSON.parse(await Deno.readTextFile(this.path(name))) as T;
    } catch (e) {
      if (e instanceof SyntaxError) {
        throw invalid(`image archive: ${name} is not valid JSON`);
      }
      throw e;
    }
  }
}

/** A member name as a key: no leading "./" or "/", ".." folded. */
function normalize(name: string): string {
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return out.join("/");
}

/** Where archive bytes go: a file or stdout. */
interface Sink {
  write(p: Uint8Array): Promise<number>;
}

async function writeAll(f: Sink, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) off += await f.write(chunk.subarray(off));
}

/** Moves a temp file into the blob store; it must hash to `want`. Each temp
 * file moves once; later calls return the digest it got (images of one
 * archive share layer files). */
export class Adopter {
  private done = new Map<string, string>();
  private layers = new Map<string, StoredLayer>();
  constructor(private readonly store: ImageStore) {}

  /** Moves a layer file of unknown compression into the store, once. */
  async layer(path: string): Promise<StoredLayer> {
    let l = this.layers.get(path);
    if (l === undefined) {
      l = await adoptLayer(this.store, this, path);
      this.layers.set(path, l);
    }
    return l;
  }

  async adopt(path: string, want?: string): Promise<string> {
    let got = this.done.get(path);
    if (got === undefined) {
      got = await this.store.blobs.adopt(path);
      this.done.set(path, got);
    }
    if (want !== undefined && got !== want) {
      throw new DigestMismatch("image archive blob", want, got);
    }
    return got;
  }
}

const LAYER_TYPES = {
  gzip: MediaType.ociLayerGzip,
  zstd: MediaType.ociLayerZstd,
  none: MediaType.ociLayer,
};

/** A layer blob now in the store: its descriptor, diff id and tar size. */
export interface StoredLayer {
  desc: Descriptor;
  diffId: string;
  tarSize: number;
}

/** Moves a layer file of unknown compression into the store. */
async function adoptLayer(
  store: ImageStore,
  adopter: Adopter,
  path: string,
): Promise<StoredLayer> {
  const mediaType = LAYER_TYPES[sniffCompression(path)];
  const size = Deno.statSync(path).size;
  const digest = await adopter.adopt(path);
  const { diffId, size: tarSize } = mediaType === MediaType.ociLayer
    ? { diffId: digest, size }
    : await diffIdOf(store.blobs.path(digest), mediaType);
  return { desc: { mediaType, digest, size }, diffId, tarSize };
}

/**
 * Stores a manifest for the config `configBytes` (kept byte for byte: its
 * digest is the image id) and `layers`, OCI's or with `docker` Docker's
 * schema 2 media types; returns the manifest's bytes.
 */
export async function storeManifest(
  store: ImageStore,
  configBytes: Uint8Array,
  layers: Descriptor[],
  docker = false,
): Promise<Uint8Array> {
  const configDigest = await store.blobs.putBytes(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
    config: {
      mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig,
      digest: configDigest,
      size: configBytes.length,
    },
    layers,
  };
  const bytes = json(manifest);
  await store.blobs.putBytes(bytes);
  return bytes;
}

/**
 * Unpacks the layers of a stored manifest (once per chain id) and records
 * the image under `names`; `tarSizes` are its layers' uncompressed sizes
 * (or their sum). Blobs must all be stored and verified. `intermediate`
 * marks a build's step image (listed with `images -a` only).
 */
export async function commitImage(
  store: ImageStore,
  manifestBytes: Uint8Array,
  mediaType: string,
  names: string[],
  tarSizes: number[],
  intermediate = false,
): Promise<ImageRecord> {
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  const config = JSON.parse(
    new TextDecoder().decode(await store.blobs.read(manifest.config.digest)),
  ) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw invalid(
      `image archive: config lists ${diffIds.length} layers, manifest ${manifest.layers.length}`,
    );
  }
  const chains = chainIds(diffIds);
  for (const [i, d] of (manifest.layers as Descriptor[]).entries()) {
    const dest = store.layerDir(chains[i]);
    await unpackLayer(store.blobs.path(d.digest), d.mediaType, dest);
  }
  return await store.commit({
    id: digestHex(manifest.config.digest),
    names,
    repoDigests: [],
    digest: await store.blobs.putBytes(manifestBytes),
    manifestMediaType: mediaType,
    manifest,
    config,
    size: imageSize(manifest.config.size, tarSizes),
    stored: new Date().toISOString(),
    ...(intermediate ? { intermediate } : {}),
  });
}

/** A name as stored: fully qualified (`busybox` -> docker.io/library/...). */
function qualified(name: string): string {
  return formatReference(parseReference(name));
}

interface DockerManifestItem {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function loadDocker(
  store: ImageStore,
  members: Members,
): Promise<ImageRecord[]> {
  const items = await members.json<DockerManifestItem[]>("manifest.json");
  if (!Array.isArray(items)) {
    throw invalid("image archive: bad manifest.json");
  }
  const adopter = new Adopter(store);
  const out: ImageRecord[] = [];
  for (const item of items) {
    const configPath = members.path(item.Config);
    const configBytes = await Deno.readFile(configPath);
    const config = await members.json<ImageConfig>(item.Config);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== item.Layers.length) {
      throw invalid(
        `image archive: config lists ${diffIds.length} layers, manifest.json ${item.Layers.length}`,
      );
    }
    const layers: StoredLayer[] = [];
    for (const [i, name] of item.Layers.entries()) {
      const l = await adopter.layer(members.path(name));
      if (l.diffId !== diffIds[i]) {
        throw new DigestMismatch(`layer ${name}`, diffIds[i], l.diffId);
      }
      layers.push(l);
    }
    const manifest = await storeManifest(
      store,
      configBytes,
      layers.map((l) => l.desc),
    );
    const names = (item.RepoTags ?? []).map(qualified);
    out.push(
      await commitImage(
        store,
        manifest,
        MediaType.ociManifest,
        names,
        layers.map((l) => l.tarSize),
      ),
    );
  }
  return out;
}

async function loadOci(
  store: ImageStore,
  members: Members,
): Promise<ImageRecord[]> {
  const adopter = new Adopter(store);
  const blob = async (d: Descriptor) => {
    const path = members.path(`blobs/sha256/${digestHex(d.digest)}`);
    return await store.blobs.read(await adopter.adopt(path, d.digest));
  };
  const parse = <T>(bytes: Uint8Array) =>
    JSON.parse(new TextDecoder().decode(bytes)) as T;
  const index = await members.json<Index>("index.json");
  const out: ImageRecord[] = [];
  for (const top of index.manifests ?? []) {
    let desc = top;
    let bytes = await blob(desc);
    if (isIndex(desc.mediaType)) {
      desc = selectPlatform(parse<Index>(bytes));
      bytes = await blob(desc);
    }
    const manifest = parse<Manifest>(bytes);
    const config = parse<ImageConfig>(await blob(manifest.config));
    const tarSizes: number[] = [];
    for (const [i, l] of manifest.layers.entries()) {
      await blob(l);
      const { diffId, size } = layerCompression(l.mediaType) === "none"
        ? { diffId: l.digest, size: l.size }
        : await diffIdOf(store.blobs.path(l.digest), l.mediaType);
      tarSizes.push(size);
      const want = config.rootfs?.diff_ids?.[i];
      if (diffId !== want) {
        throw new DigestMismatch(`layer ${l.digest}`, String(want), diffId);
      }
    }
    const ref = top.annotations?.[REF_NAME];
    // A bare tag ("latest") names no repository: the image stays unnamed.
    const names = ref && /[/:]/.test(ref) ? [qualified(ref)] : [];
    out.push(
      await commitImage(
        store,
        bytes,
        desc.mediaType ?? manifest.mediaType ?? MediaType.ociManifest,
        names,
        tarSizes,
      ),
    );
  }
  return out;
}

/** Runs `fn` with a fresh temp dir beside the blobs, removed afterwards. */
async function withTempDir<T>(
  store: ImageStore,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = store.blobs.tempPath();
  Deno.mkdirSync(dir, { mode: 0o700 });
  try {
    return await fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * Loads the images of a docker-archive or oci-archive (gzip allowed) from
 * `path`, or stdin when undefined. Returns the stored images.
 */
export async function loadArchive(
  store: ImageStore,
  path: string | undefined,
): Promise<ImageRecord[]> {
  return await store.writing(() =>
    withTempDir(store, async (dir) => {
      const members = await Members.read(await gunzipped(openInput(path)), dir);
      if (members.has("manifest.json")) return loadDocker(store, members);
      if (members.has("oci-layout") && members.has("index.json")) {
        return loadOci(store, members);
      }
      throw invalid(
        "not an image archive: no manifest.json (docker-archive) or oci-layout (oci-archive)",
      );
    })
  );
}

/** A tar being written to a file, entry by entry. */
class TarWriter {
  private pack = tar.pack();
  private done: Promise<void>;
  /**
   * The write that failed (stdout closed by its reader, say). Every later
   * call reports it, not what tar-stream says of its destroyed pack.
   */
  private failure: unknown;

  constructor(file: Sink) {
    this.done = (async () => {
      for await (const chunk of this.pack) {
        try {
          await writeAll(file, chunk as Uint8Array);
        } catch (e) {
          this.failure = e;
          throw e;
        }
      }
    })();
    // Reported by the next call, or by finish(): not an unhandled rejection.
    this.done.catch(() => {});
  }

  private healthy(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private header(name: string, size: number) {
    return { name, size, mode: 0o644, mtime: new Date(0) };
  }

  addBytes(name: string, data: Uint8Array): void {
    this.healthy();
    this.pack.entry(this.header(name, data.length), data);
  }

  addDir(name: string): void {
    this.healthy();
    this.pack.entry({
      name,
      type: "directory",
      mode: 0o755,
      mtime: new Date(0),
    });
  }

  async addFile(name: string, path: string): Promise<void> {
    this.healthy();
    const size = Deno.statSync(path).size;
    await new Promise<void>((resolve, reject) => {
      const sink = this.pack.entry(
        this.header(name, size),
        (e) => e ? reject(this.failure ?? e) : resolve(),
      );
      const src = createReadStream(path);
      src.on("error", reject);
      src.pipe(sink as unknown as NodeJS.WritableStream);
    });
  }

  async finish(): Promise<void> {
    this.healthy();
    this.pack.finalize();
    await this.done;
  }
}

/** A layer blob as an uncompressed tar file (a temp copy when compressed). */
async function plainLayer(
  store: ImageStore,
  d: Descriptor,
  dir: string,
): Promise<string> {
  const path = store.blobs.path(d.digest);
  if (sniffCompression(path) === "none") return path;
  const out = `${dir}/${digestHex(d.digest)}.tar`;
  const f = await Deno.open(out, { write: true, createNew: true });
  try {
    for await (const chunk of layerTar(path, d.mediaType)) {
      await writeAll(f, chunk);
    }
  } finally {
    f.close();
  }
  return out;
}

async function saveDocker(
  store: ImageStore,
  images: [ImageRecord, string[]][],
  w: TarWriter,
  dir: string,
): Promise<void> {
  const manifest: DockerManifestItem[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const written = new Set<string>();
  for (const [img, names] of images) {
    const configName = `${img.id}.json`;
    if (!written.has(configName)) {
      w.addBytes(
        configName,
        await store.blobs.read(img.manifest.config.digest),
      );
      written.add(configName);
    }
    const layers: string[] = [];
    for (const [i, d] of img.manifest.layers.entries()) {
      const name = `${digestHex(img.config.rootfs.diff_ids[i])}.tar`;
      if (!written.has(name)) {
        await w.addFile(name, await plainLayer(store, d, dir));
        written.add(name);
      }
      layers.push(name);
    }
    manifest.push({ Config: configName, RepoTags: names, Layers: layers });
    for (const n of names) {
      const i = n.lastIndexOf(":");
      (repositories[n.slice(0, i)] ??= {})[n.slice(i + 1)] = layers.at(-1)!
        .replace(/\.tar$/, "");
    }
  }
  w.addBytes("manifest.json", json(manifest));
  w.addBytes("repositories", json(repositories));
}

async function saveOci(
  store: ImageStore,
  images: [ImageRecord, string[]][],
  w: TarWriter,
): Promise<void> {
  const written = new Set<string>();
  const addBlob = async (digest: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    await w.addFile(
      `blobs/sha256/${digestHex(digest)}`,
      store.blobs.path(digest),
    );
  };
  w.addBytes("oci-layout", json({ imageLayoutVersion: "1.0.0" }));
  w.addDir("blobs");
  w.addDir("blobs/sha256");
  const manifests: Descriptor[] = [];
  for (const [img, names] of images) {
    await addBlob(img.digest);
    await addBlob(img.manifest.config.digest);
    for (const l of img.manifest.layers) await addBlob(l.digest);
    const desc = {
      mediaType: img.manifestMediaType,
      digest: img.digest,
      size: store.blobs.size(img.digest),
    };
    if (names.length === 0) manifests.push(desc);
    for (const n of names) {
      manifests.push({ ...desc, annotations: { [REF_NAME]: n } });
    }
  }
  w.addBytes(
    "index.json",
    json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }),
  );
}

/**
 * The images `refs` name, each once with the names it is saved under. As in
 * Podman, without `multi` the first image is saved and the other refs are
 * only more names for it.
 */
function savedImages(
  store: ImageStore,
  refs: string[],
  multi: boolean,
): [ImageRecord, string[]][] {
  const byId = new Map<string, [ImageRecord, string[]]>();
  for (const r of refs) {
    const found = store.find(r);
    const img = multi ? found : byId.values().next().value?.[0] ?? found;
    const entry = byId.get(img.id) ?? [img, []];
    byId.set(img.id, entry);
    const name = store.nameFor(r, found);
    if (name && !entry[1].includes(name)) entry[1].push(name);
  }
  return [...byId.values()];
}

/**
 * Writes `refs` (names or ids) to `out` (stdout when undefined) in
 * `format`, several images only with `multi` (Podman's -m). A file is
 * written under a temp name and renamed when complete.
 */
export async function saveImages(
  store: ImageStore,
  refs: string[],
  format: ArchiveFormat,
  out: string | undefined,
  multi = false,
): Promise<void> {
  if (multi && format !== "docker-archive") {
    throw invalid(
      `unsupported format "${format}" for saving multiple images (only docker-archive)`,
    );
  }
  // Podman's oci-archive holds the first image under its first name only.
  const images = savedImages(
    store,
    format === "docker-archive" ? refs : refs.slice(0, 1),
    multi,
  );
  if (out === undefined && Deno.stdout.isTerminal()) {
    throw invalid("refusing to write an archive to a terminal: use -o FILE");
  }
  const tmp = out === undefined
    ? undefined
    : `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const file = tmp === undefined
    ? Deno.stdout
    : await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
  try {
    await withTempDir(store, async (dir) => {
      const w = new TarWriter(file);
      if (format === "oci-archive") await saveOci(store, images, w);
      else await saveDocker(store, images, w, dir);
      await w.finish();
    });
    if (tmp !== undefined) {
      await (file as Deno.FsFile).sync();
      await Deno.rename(tmp, out!);
    }
  } catch (e) {
    if (tmp !== undefined) await Deno.remove(tmp).catch(() => {});
    throw e;
  } finally {
    if (tmp !== undefined) (file as Deno.FsFile).close();
  }
}

/** The image config defaults after Dockerfile-style `--change` lines. */
export function applyChanges(
  base: ContainerDefaults,
  changes: string[],
): ContainerDefaults {
  const c: ContainerDefaults = { ...base, Env: [...(base.Env ?? [])] };
  for (const change of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(change);
    if (!m) throw invalid(`invalid change ${JSON.stringify(change)}`);
    const [, word, rest] = m;
    const value = rest.trim();
    switch (word.toUpperCase()) {
      case "CMD":
        c.Cmd = execForm(value);
        break;
      case "ENTRYPOINT":
        c.Entrypoint = execForm(value);
        break;
      case "ENV":
        for (const kv of envPairs(value)) {
          const key = kv.slice(0, kv.indexOf("="));
          c.Env = [...c.Env!.filter((e) => !e.startsWith(`${key}=`)), kv];
        }
        break;
      case "WORKDIR":
        c.WorkingDir = value;
        break;
      case "USER":
        c.User = value;
        break;
      case "VOLUME": {
        const paths: unknown = value.startsWith("[")
          ? JSON.parse(value)
          : value.split(/\s+/);
        if (!Array.isArray(paths) || paths.some((p) => typeof p !== "string")) {
          throw invalid(`invalid change ${JSON.stringify(change)}`);
        }
        c.Volumes = {
          ...c.Volumes,
          ...Object.fromEntries(paths.map((p) => [p, {}])),
        };
        break;
      }
      case "EXPOSE": {
        // Docker's keys: a bare port is TCP.
        const key = (p: string) => p.includes("/") ? p : `${p}/tcp`;
        const ports = value.split(/\s+/).map((p) => [key(p), {}]);
        c.ExposedPorts = { ...c.ExposedPorts, ...Object.fromEntries(ports) };
        break;
      }
      default:
        throw invalid(
          `invalid change ${
            JSON.stringify(change)
          }: ptd supports CMD, ENTRYPOINT, ENV, WORKDIR, USER, VOLUME, EXPOSE`,
        );
    }
  }
  return c;
}

/** `["a","b"]` as given, anything else as `/bin/sh -c TEXT`. */
function execForm(value: string): string[] {
  if (value.startsWith("[")) {
    try {
      const v = JSON.parse(value);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
    } catch { /* shell form after all */ }
  }
  return ["/bin/sh", "-c", value];
}

/** `ENV k=v k2=v2` or the old `ENV k v w` form, as "k=v" items. */
function envPairs(value: string): string[] {
  const first = value.split(/\s+/)[0];
  if (!first.includes("=")) {
    const rest = value.slice(first.length).trim();
    return [`${first}=${rest}`];
  }
  return value.split(/\s+/).map((kv) => kv.replace(/^(\w+)="(.*)"$/, "$1=$2"));
}

/** Options of `import`. */
export interface ImportOptions {
  /** The name to give the image, as `tag` takes it (none: dangling). */
  reference?: string;
  changes?: string[];
  message?: string;
  /** --arch, --os: the platform the config claims (default: this host's). */
  architecture?: string;
  os?: string;
}

/**
 * Makes a one-layer image from a rootfs tarball at `path` ("-": stdin),
 * gzip, zstd or plain.
 */
export async function importRootfs(
  store: ImageStore,
  path: string,
  opts: ImportOptions = {},
): Promise<ImageRecord> {
  const defaults = applyChanges({}, opts.changes ?? []);
  return await store.writing(async () => {
    const tmp = store.blobs.tempPath();
    const f = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for await (const chunk of openInput(path === "-" ? undefined : path)) {
        await writeAll(f, chunk);
      }
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    } finally {
      f.close();
    }
    const layer = await new Adopter(store).layer(tmp);
    const created = new Date().toISOString();
    const config: ImageConfig = {
      created,
      architecture: opts.architecture ?? hostPlatform().architecture,
      os: opts.os ?? "linux",
      config: defaults,
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
      history: [{
        created,
        // Podman's (buildah's) words for an imported tarball.
        created_by: `/bin/sh -c #(nop) ADD file:${
          layer.diffId.slice("sha256:".length)
        } in /`,
        comment: opts.message ?? "imported from tarball",
      }],
    };
    const manifest = await storeManifest(store, json(config), [layer.desc]);
    const names = opts.reference ? [localName(opts.reference)] : [];
    return await commitImage(store, manifest, MediaType.ociManifest, names, [
      layer.tarSize,
    ]);
  });
}
