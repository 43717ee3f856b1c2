/**
 * How images are shown: Docker's `images` rows, the `image inspect`
 * document and `history` entries, as plain data for the CLI to print or
 * template.
 */
import type { HistoryEntry } from "./oci.ts";
import type { ImageRecord } from "./store.ts";

/** Docker's (go-units) HumanSize: decimal units, 3 significant digits. */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

function splitName(name: string): { repository: string; tag: string } {
  const i = name.lastIndexOf(":");
  return i > name.lastIndexOf("/")
    ? { repository: name.slice(0, i), tag: name.slice(i + 1) }
    : { repository: name, tag: "<none>" };
}

/** One row of `ptd images` (Docker's JSON field names). */
export interface ImageRow {
  ID: string;
  Repository: string;
  Tag: string;
  Digest: string;
  CreatedAt: string;
  Size: string;
}

/** The created time of an image (when ptd stored it if the config has none). */
export function createdOf(img: ImageRecord): string {
  return img.config.created ?? img.stored;
}

/**
 * Rows of `ptd images`: one per name, one `<none>` row for a dangling
 * image; ids short (12 hex digits) unless `fullIds`.
 */
export function imageRows(
  images: ImageRecord[],
  fullIds = false,
): ImageRow[] {
  return images.flatMap((img) => {
    const names = img.names.length > 0 ? img.names : ["<none>"];
    return names.map((n) => {
      const { repository, tag } = splitName(n);
      const digest = img.repoDigests.find((d) =>
        d.startsWith(`${repository}@`)
      )?.split("@")[1] ?? "<none>";
      return {
        ID: fullIds ? `sha256:${img.id}` : img.id.slice(0, 12),
        Repository: repository,
        Tag: tag,
        Digest: digest,
        CreatedAt: createdOf(img),
        Size: humanSize(img.size),
      };
    });
  });
}

/** The `image inspect` document, in Docker's shape. */
export function inspectImage(img: ImageRecord): Record<string, unknown> {
  const c = img.config;
  return {
    Id: `sha256:${img.id}`,
    Digest: img.digest,
    RepoTags: img.names,
    RepoDigests: img.repoDigests,
    Created: createdOf(img),
    Author: c.author ?? "",
    Config: c.config ?? {},
    Architecture: c.architecture,
    Os: c.os,
    ...(c.variant ? { Variant: c.variant } : {}),
    Size: img.size,
    RootFS: { Type: "layers", Layers: c.rootfs.diff_ids },
    ManifestType: img.manifestMediaType,
    History: c.history ?? [],
  };
}

/** One row of `ptd history`, newest first. */
export interface HistoryRow {
  ID: string;
  CreatedAt: string;
  CreatedBy: string;
  Size: number;
  Comment: string;
}

/**
 * History entries newest first; non-empty entries take the layer sizes in
 * order. Only the newest row carries the image id, as in Docker.
 */
export function historyRows(img: ImageRecord): HistoryRow[] {
  const layers = img.manifest.layers.map((l) => l.size);
  const history: HistoryEntry[] = img.config.history ??
    layers.map(() => ({ created: createdOf(img) }));
  let li = 0;
  const rows = history.map((h) => ({
    ID: "<missing>",
    CreatedAt: h.created ?? "",
    CreatedBy: h.created_by ?? "",
    Size: h.empty_layer ? 0 : layers[li++] ?? 0,
    Comment: h.comment ?? "",
  })).reverse();
  if (rows.length > 0) rows[0].ID = img.id.slice(0, 12);
  return rows;
}
