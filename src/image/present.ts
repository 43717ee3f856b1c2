/**
 * How images are shown: Docker's `images` rows, the `image inspect`
 * document and `history` entries, as plain data for the CLI to print or
 * template.
 */
import type { HistoryEntry } from "./oci.ts";
import type { ImageRecord } from "./store.ts";
import {
  goMap,
  goStruct,
  goTimeString,
  humanDuration,
} from "../runtime/gomap.ts";
import { humanSize } from "../runtime/sizes.ts";

/**
 * REPO@DIGEST of each of the image's repositories, as containers/storage
 * derives them from its names and manifest digest, after those recorded
 * at pull (a list's digest among them).
 */
export function repoDigestsOf(img: ImageRecord): string[] {
  const repos = img.names.map((n) => n.replace(/:[^:/]*$/, ""));
  const derived = repos.map((r) => `${r}@${img.digest}`);
  return [...new Set([...img.repoDigests, ...derived])];
}

function splitName(name: string): { Repository: string; Tag: string } {
  const i = name.lastIndexOf(":");
  return i > name.lastIndexOf("/")
    ? { Repository: name.slice(0, i), Tag: name.slice(i + 1) }
    : { Repository: name, Tag: "<none>" };
}

/** An image as `images --format json` prints it (Podman's ImageSummary). */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: null;
  RepoDigests: string[];
  Size: number;
  SharedSize: number;
  VirtualSize: number;
  Labels: Record<string, string> | null;
  Containers: number;
  Names: string[];
  Digest: string;
  History: string[];
  /** Unix seconds. */
  Created: number;
  /** RFC 3339, to the second. */
  CreatedAt: string;
}

/** One row of `images`: a name of an image (or `<none>`), and the image. */
export interface ImageRow {
  Repository: string;
  Tag: string;
  image: ImageSummary;
}

/** The created time of an image (when ptd stored it if the config has none). */
export function createdOf(img: ImageRecord): string {
  return img.config.created ?? img.stored;
}

/** The summary of an image that `containers` containers use. */
export function imageSummary(
  img: ImageRecord,
  containers: number,
): ImageSummary {
  const created = Math.floor(Date.parse(createdOf(img)) / 1000);
  const labels = img.config.config?.Labels ?? {};
  return {
    Id: img.id,
    ParentId: "",
    RepoTags: null,
    RepoDigests: repoDigestsOf(img),
    Size: img.size,
    SharedSize: 0,
    VirtualSize: img.size,
    Labels: Object.keys(labels).length > 0 ? labels : null,
    Containers: containers,
    Names: img.names,
    Digest: img.digest,
    // containers/storage's NamesHistory: the newest name first.
    History: img.names.toReversed(),
    Created: created,
    CreatedAt: new Date(created * 1000).toISOString().replace(/\.000Z$/, "Z"),
  };
}

/** Rows of `images`: one per name, one `<none>` row for a dangling image. */
export function imageRows(images: ImageSummary[]): ImageRow[] {
  return images.flatMap((image) => {
    const names = image.Names.length > 0 ? image.Names : ["<none>"];
    return names.map((n) => ({ ...splitName(n), image }));
  });
}

const ago = (unix: number, now: number) =>
  `${humanDuration(now - unix * 1000)} ago`;

/**
 * What an `images --format` template sees: Podman's imageReporter (short
 * ids unless `noTrunc`, sizes and times as Podman prints them).
 */
export function imageView(
  r: ImageRow,
  noTrunc: boolean,
  now = Date.now(),
): Record<string, unknown> {
  const i = r.image;
  const time = goTimeString(i.CreatedAt);
  return goStruct({
    ID: noTrunc ? `sha256:${i.Id}` : i.Id.slice(0, 12),
    Id: i.Id,
    Repository: r.Repository,
    Tag: r.Tag,
    Digest: i.Digest,
    Created: ago(i.Created, now),
    CreatedSince: ago(i.Created, now),
    CreatedAt: time,
    CreatedTime: time,
    Size: humanSize(i.Size),
    Containers: i.Containers,
    Labels: goMap(i.Labels),
    Names: i.Names,
    History: i.History.join(", "),
    ReadOnly: false,
    SharedSize: i.SharedSize,
    VirtualSize: i.VirtualSize,
    ParentId: i.ParentId,
    RepoDigests: i.RepoDigests,
    RepoTags: [],
    Dangling: i.Names.length === 0,
  }, "images.imageReporter");
}

/** The fields of OCI's ImageConfig, with what Go has when one is unset. */
const CONFIG_FIELDS: [string, () => unknown][] = [
  ["User", () => ""],
  ["ExposedPorts", () => goMap(null)],
  ["Env", () => []],
  ["Entrypoint", () => []],
  ["Cmd", () => []],
  ["Volumes", () => goMap(null)],
  ["WorkingDir", () => ""],
  ["Labels", () => goMap(null)],
  ["StopSignal", () => ""],
];

/**
 * The image's config as Podman shows it: JSON leaves empty fields out
 * (omitempty), while a template still finds every field of the struct.
 */
function configDoc(config: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const given = config as Record<string, unknown>;
  for (const [k, zero] of CONFIG_FIELDS) {
    const v = given[k];
    const empty = v === "" || v === null || v === undefined ||
      (typeof v === "object" && Object.keys(v).length === 0);
    const maps = k === "Labels" || k === "ExposedPorts" || k === "Volumes";
    const value = empty ? zero() : maps ? goMap(v as object) : v;
    Object.defineProperty(out, k, { value, enumerable: !empty });
  }
  return out;
}

/** The `image inspect` document, in Podman's shape. */
export function inspectImage(img: ImageRecord): Record<string, unknown> {
  const c = img.config;
  const history = c.history ?? [];
  return {
    Id: img.id,
    Digest: img.digest,
    RepoTags: img.names,
    RepoDigests: repoDigestsOf(img),
    Parent: "",
    Comment: history.at(-1)?.comment ?? "",
    Created: createdOf(img),
    Config: configDoc(c.config ?? {}),
    Version: "",
    Author: c.author ?? "",
    Architecture: c.architecture,
    Os: c.os,
    ...(c.variant ? { Variant: c.variant } : {}),
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Name: "overlay", Data: null },
    RootFS: { Type: "layers", Layers: c.rootfs.diff_ids },
    Labels: goMap(c.config?.Labels),
    Annotations: goMap(img.manifest.annotations ?? {}),
    ManifestType: img.manifestMediaType,
    User: c.config?.User ?? "",
    History: history,
    NamesHistory: img.names.toReversed(),
  };
}

/** One `history` entry as `history --format json` prints it (Podman's). */
export interface HistoryRow {
  /** The image id on the newest entry, else "<missing>". */
  id: string;
  created: string;
  CreatedBy: string;
  size: number;
  /** Absent when empty, as in Podman. */
  comment?: string;
  /** RFC 3339 to the second. */
  Created: string;
}

/**
 * History entries newest first; non-empty entries take the layer sizes in
 * order. Only the newest row carries the image id, as in Podman.
 */
export function historyRows(img: ImageRecord): HistoryRow[] {
  const layers = img.manifest.layers.map((l) => l.size);
  const history: HistoryEntry[] = img.config.history ??
    layers.map(() => ({ created: createdOf(img) }));
  let li = 0;
  const rows = history.map((h) => ({
    id: "<missing>",
    created: h.created ?? "",
    CreatedBy: h.created_by ?? "",
    size: h.empty_layer ? 0 : layers[li++] ?? 0,
    ...(h.comment ? { comment: h.comment } : {}),
    Created: h.created ? h.created.replace(/\.\d+Z$/, "Z") : "",
  })).reverse();
  if (rows.length > 0) rows[0].id = img.id;
  return rows;
}

/**
 * What a `history --format` template sees: Podman's historyReporter;
 * `human` sizes and times unless -H=false, short ids and CREATED BY unless
 * `noTrunc`.
 */
export function historyView(
  r: HistoryRow,
  o: { noTrunc: boolean; human: boolean },
  now = Date.now(),
): Record<string, unknown> {
  const since = r.created
    ? `${humanDuration(now - Date.parse(r.created))} ago`
    : "";
  const by = o.noTrunc || r.CreatedBy.length <= 45
    ? r.CreatedBy
    : `${r.CreatedBy.slice(0, 42)}...`;
  return goStruct({
    ID: o.noTrunc || r.id === "<missing>" ? r.id : r.id.slice(0, 12),
    Created: o.human ? since : r.created,
    CreatedBy: by,
    Size: o.human ? humanSize(r.size) : r.size,
    Comment: r.comment ?? "",
    CreatedAt: r.created ? goTimeString(r.Created) : "",
    CreatedSince: since,
    Tags: [],
  }, "images.historyReporter");
}
