/**
 * The engine's local images: list (with a reference filter), inspect,
 * history, tag, rmi and prune. Removal asks the containers which images
 * and layers they use: the one place images and containers meet.
 */
import { ContainerStore } from "../container/store.ts";
import {
  createdOf,
  type HistoryRow,
  historyRows,
  type ImageRow,
  imageRows,
  imageSummary,
  inspectImage,
} from "../image/present.ts";
import { localName } from "../image/reference.ts";
import {
  type ImageUsers,
  pruneImages as pruneStore,
  type Removed,
  removeImages as removeFromStore,
} from "../image/remove.ts";
import { type ImageRecord, ImageStore } from "../image/store.ts";
import { invalid } from "../runtime/errors.ts";
import { emitEvent } from "../events/emit.ts";
import { globMatch } from "../runtime/glob.ts";
export { globMatch };
import type { Engine } from "./engine.ts";
import {
  compileFilters,
  type FilterSyntax,
  labelsMatch,
  type Matcher,
  parseFilters,
  parseTime,
} from "./filters.ts";

const images = (e: Engine) => e.store(ImageStore);

/** `images --filter` as Podman 4.3 reads it (no `digest` yet). */
const IMAGE_FILTERS: FilterSyntax = {
  unknown: (key) => `unsupported image filter ${JSON.stringify(key)}`,
  malformed: (text) =>
    `invalid image filter ${
      JSON.stringify(text)
    }: must be in the format "filter=value or filter!=value"`,
  keys: [
    "before",
    "dangling",
    "id",
    "intermediate",
    "label",
    "readonly",
    "reference",
    "since",
    "until",
  ],
};

/** Go's strconv.ParseBool, with Podman's (oddly worded) message. */
function parseBool(key: string, value: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  throw invalid(
    `non-boolean value ${JSON.stringify(key)} for ${value} filter: ` +
      `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
  );
}

/**
 * The spellings `reference=` is matched against for one name: the full
 * name, without registry, without path, each with and without its tag
 * (Podman's libimage).
 */
function referenceCandidates(name: string): string[] {
  const { repository, tag } = splitTag(name);
  const slash = repository.indexOf("/");
  const path = slash < 0 ? repository : repository.slice(slash + 1);
  const base = repository.slice(repository.lastIndexOf("/") + 1);
  const suffix = tag === undefined ? "" : `:${tag}`;
  return [name, path, base + suffix, repository, path + suffix, base];
}

function splitTag(name: string): { repository: string; tag?: string } {
  const i = name.lastIndexOf(":");
  return i > name.lastIndexOf("/")
    ? { repository: name.slice(0, i), tag: name.slice(i + 1) }
    : { repository: name };
}

const createdMs = (img: ImageRecord) => Date.parse(createdOf(img));

/** The matchers of `images --filter`; before/since name an image. */
function imageMatchers(e: Engine): Record<string, Matcher<ImageRecord>> {
  const refTime = (key: string) => (vs: string[]) =>
    vs.map((v) => {
      try {
        return createdMs(images(e).find(v));
      } catch (err) {
        throw invalid(
          `could not find local image for filter filter "${key}"="${v}": ${
            err instanceof Error ? err.message : err
          }`,
        );
      }
    });
  const bool = (key: string, of: (img: ImageRecord) => boolean) =>
  (
    vs: string[],
  ) => {
    const want = vs.map((v) => parseBool(key, v));
    if (want.some((w) => w !== want[0])) {
      throw invalid(
        `specifying ${
          JSON.stringify(key)
        } filter more than once with different values is not supported`,
      );
    }
    return (img: ImageRecord) => of(img) === want[0];
  };
  return {
    before: (vs) => {
      const times = refTime("before")(vs);
      return (img) => times.some((t) => createdMs(img) < t);
    },
    since: (vs) => {
      const times = refTime("since")(vs);
      return (img) => times.some((t) => createdMs(img) > t);
    },
    until: (vs) => {
      const times = vs.map((v) => parseTime(v));
      return (img) => times.some((t) => createdMs(img) < t);
    },
    dangling: bool("dangling", (img) => img.names.length === 0),
    // A build's step images, while no name makes them the user's; ptd has
    // no read-only stores.
    intermediate: bool(
      "intermediate",
      (img) => !!img.intermediate && img.names.length === 0,
    ),
    readonly: bool("readonly", () => false),
    id: (vs) => (img) => vs.includes(img.id),
    label: (vs) => (img) => labelsMatch(vs, img.config.config?.Labels ?? {}),
    reference: (vs) => (img) =>
      img.names.some((n) =>
        referenceCandidates(n).some((c) => vs.some((v) => globMatch(v, c)))
      ),
  };
}

/** The predicate of `--filter` arguments for images; bad ones fail now. */
function imageFilter(e: Engine, filters: string[] = []) {
  return compileFilters(
    parseFilters(filters, IMAGE_FILTERS),
    imageMatchers(e),
  );
}

/** The keys `images --sort` knows: Podman's. */
const IMAGE_SORT_KEYS = ["created", "id", "repository", "size", "tag"];

/** Checks an `images --sort` key, with Podman's message. */
export function parseImageSort(value: string): string {
  if (!IMAGE_SORT_KEYS.includes(value)) {
    throw invalid(
      `"${value}" is not a valid field for sorting. Choose from: ${
        IMAGE_SORT_KEYS.join(", ")
      }`,
    );
  }
  return value;
}

/** Go's string order (bytes), not the locale's. */
const cmp = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

/** Podman's orders: newest first by default. */
const IMAGE_ORDERS: Record<string, (a: ImageRow, b: ImageRow) => number> = {
  created: (a, b) => b.image.Created - a.image.Created,
  id: (a, b) => cmp(a.image.Id, b.image.Id),
  repository: (a, b) => cmp(a.Repository, b.Repository),
  size: (a, b) => a.image.Size - b.image.Size,
  tag: (a, b) => cmp(a.Tag, b.Tag),
};

/** What `images` asks for. */
export interface ImageQuery {
  /** Only this repository[:tag]. */
  reference?: string;
  /** `--filter KEY=VALUE` (Podman's keys). */
  filters?: string[];
  /** An `images --sort` key; created (newest first) by default. */
  sort?: string;
  /** Intermediate images too (without, Podman adds intermediate=false). */
  all?: boolean;
}

/** `images`: one row per name, a `<none>` row for a dangling image. */
export function listImages(e: Engine, q: ImageQuery = {}): ImageRow[] {
  const users = new Map<string, number>();
  for (const c of e.store(ContainerStore).list()) {
    users.set(c.imageId, (users.get(c.imageId) ?? 0) + 1);
  }
  // Podman 4.3 reads `images REF` as a reference filter: every name of
  // each image it matches is listed, not only the one given.
  const filters = [
    ...q.all ? [] : ["intermediate=false"],
    ...q.filters ?? [],
    ...q.reference === undefined ? [] : [`reference=${q.reference}`],
  ];
  const rows = imageRows(
    images(e).list().filter(imageFilter(e, filters))
      .map((i) => imageSummary(i, users.get(i.id) ?? 0)),
  ).sort(IMAGE_ORDERS[parseImageSort(q.sort ?? "created")]);
  return rows;
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
  for (const t of targets) {
    await images(e).tag(img.id, localName(t));
    await emitEvent({ type: "image", action: "tag", id: img.id, name: t });
  }
}

/**
 * `untag`: removes `names` from image `source`, or every name it has when
 * none are given; the image itself stays (untagged). A name it does not
 * have is Podman's "tag not known".
 */
export async function untagImage(
  e: Engine,
  source: string,
  names: string[],
): Promise<void> {
  const img = images(e).find(source);
  const gone = names.length > 0 ? names.map(localName) : img.names;
  for (const n of gone) {
    if (!img.names.includes(n)) throw invalid(`${n}: tag not known`);
  }
  for (const n of gone) await images(e).untag(img.id, n);
}

/** Which containers use which images and layers. */
export function imageUsers(e: Engine): ImageUsers {
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
 * uses) of those `filters` select, then every blob and layer nothing references; returns the ids.
 */
export async function pruneImages(
  e: Engine,
  all = false,
  filters: string[] = [],
): Promise<string[]> {
  const chosen = imageFilter(e, filters);
  const gone = await pruneStore(images(e), imageUsers(e), all, chosen);
  return gone.map((img) => img.id);
}
