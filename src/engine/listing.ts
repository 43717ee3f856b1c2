/**
 * The engine's read side for containers: finding them, `ps` rows with
 * Podman's filters and order, and inspect documents. Loads none of the code
 * that starts, stops or creates containers.
 */
import type { ContainerConfig, ContainerState } from "../container/config.ts";
import { isActive, reconcile, reconcileKept } from "../container/liveness.ts";
import { namespacesOf, type PsRow, psRow } from "../container/ps_row.ts";
import { ContainerStore, vfsRoot } from "../container/store.ts";
import { PodStore } from "../pod/store.ts";
import { invalid } from "../runtime/errors.ts";
import { lazy } from "../runtime/lazy.ts";
import { VolumeStore } from "../volume/store.ts";
import type { Engine } from "./engine.ts";
import {
  compileFilters,
  type Filters,
  FORM_ERROR,
  labelsMatch,
  type Matcher,
  parseFilters,
  parseTime,
} from "./filters.ts";

/** The engine's container store. */
export const containerStore = (e: Engine): ContainerStore =>
  e.store(ContainerStore);

/** A container by name, full id or unique id prefix (not-found if none). */
export function findContainer(e: Engine, ref: string): ContainerConfig {
  return containerStore(e).find(ref);
}

/** A container with its state as the processes alive say. */
export interface Listed {
  c: ContainerConfig;
  state: ContainerState;
}

/** One container with its state as the processes alive say. */
export async function containerWithState(
  e: Engine,
  ref: string,
): Promise<Listed> {
  const c = findContainer(e, ref);
  return { c, state: await reconcile(containerStore(e), c.id) };
}

/** Every container with its state as the processes alive say, oldest first. */
export async function containersWithState(e: Engine): Promise<Listed[]> {
  const s = containerStore(e);
  const out = [];
  for (const c of s.list()) {
    // A --rm container whose parent died is removed by reconcile: skipped.
    const state = await reconcileKept(s, c.id);
    if (state) out.push({ c, state });
  }
  return out.sort(byCreated);
}

const byCreated = (a: Listed, b: Listed) =>
  Date.parse(a.c.created) - Date.parse(b.c.created);

/** The keys `ps --filter` (and the bulk verbs' --filter) know: Podman's. */
export const CONTAINER_FILTER_KEYS = [
  "ancestor",
  "before",
  "exited",
  "health",
  "id",
  "label",
  "name",
  "network",
  "pod",
  "restart-policy",
  "since",
  "status",
  "until",
  "volume",
] as const;

/** The states `status=` accepts (Podman's); ptd has no paused ones yet. */
const STATES = [
  "created",
  "running",
  "paused",
  "stopped",
  "exited",
  "unknown",
  "removing",
];

/** Go's regexp is unanchored: `name=web` matches "myweb1". */
const anyRegex = (values: string[]) => {
  const res = values.map((v) => new RegExp(v));
  return (s: string) => res.some((r) => r.test(s));
};

/** The matchers of `ps --filter`, given every container (before/since). */
function containerMatchers(e: Engine): Record<string, Matcher<Listed>> {
  const createdOf = (ref: string) =>
    Date.parse(containerStore(e).find(ref).created);
  const created = (x: Listed) => Date.parse(x.c.created);
  return {
    id: (vs) => {
      const m = anyRegex(vs);
      return (x) => m(x.c.id);
    },
    name: (vs) => {
      const m = anyRegex(vs);
      return (x) => m(x.c.name);
    },
    label: (vs) => (x) => labelsMatch(vs, x.c.labels),
    status: (vs) => {
      for (const v of vs) {
        if (!STATES.includes(v)) {
          throw invalid(`unknown container state: ${v}: invalid argument`);
        }
      }
      const want = vs.map((v) => v === "stopped" ? "exited" : v);
      return (x) => want.includes(x.state.status);
    },
    exited: (vs) => {
      const codes = vs.map((v) => {
        if (!/^[+-]?\d+$/.test(v)) {
          throw invalid(
            `exited code out of range '\\x00': strconv.ParseInt: parsing ${
              JSON.stringify(v)
            }: invalid syntax`,
          );
        }
        return Number(v);
      });
      return (x) =>
        x.state.status === "exited" && codes.includes(x.state.exitCode);
    },
    // Podman 4.3: the image's full name or full id; no tag means latest.
    ancestor: (vs) => (x) =>
      vs.some((v) =>
        v === x.c.image || (v !== "" && v === x.c.imageId) ||
        `${v}:latest` === x.c.image
      ),
    before: (vs) => {
      const times = vs.map(createdOf);
      return (x) => times.some((t) => created(x) < t);
    },
    since: (vs) => {
      const times = vs.map(createdOf);
      return (x) => times.some((t) => created(x) > t);
    },
    until: (vs) => {
      const times = vs.map((v) => parseTime(v));
      return (x) => times.some((t) => created(x) < t);
    },
    volume: (vs) => (x) =>
      vs.some((v) => {
        const [source, dest] = v.split(/:(.*)/s);
        return (x.c.mounts ?? []).some((m) =>
          m.type !== "tmpfs" && m.source === source &&
          (!dest || m.destination === dest)
        );
      }),
    "restart-policy": (vs) => (x) => {
      const name = x.c.host.restartPolicy.name;
      // A container without a policy has none, not "no" (Podman's rule).
      return name !== "no" && vs.includes(name);
    },
    // A running container's check status (Podman's: none matches nothing).
    health: (vs) => (x) =>
      x.state.status === "running" && vs.includes(x.state.health?.Status ?? ""),
    // ptd has no named networks or pods yet: nothing is in one.
    network: () => () => false,
    pod: (vs) => {
      const ids = podsNamed(e, vs);
      return (x) => ids.has(x.c.host.pod ?? "");
    },
  };
}

/** Parses `--filter` arguments for containers (Podman's keys). */
export function parseContainerFilters(args: readonly string[]): Filters {
  return parseFilters(args, {
    keys: CONTAINER_FILTER_KEYS,
    unknown: (key) => `${key} is an invalid filter`,
    malformed: (text) => `invalid filter ${JSON.stringify(text)}`,
  });
}

/** `container prune --filter`: only label= and until= (Podman's keys). */
export function parsePruneFilters(args: readonly string[]): Filters {
  return parseFilters(args, {
    keys: ["label", "until"],
    unknown: (key) => `${key} is an invalid filter`,
    malformed: FORM_ERROR,
  });
}

/** The containers `filters` select, oldest first. */
export async function filterContainers(
  e: Engine,
  filters: Filters,
): Promise<Listed[]> {
  const keep = compileFilters(filters, containerMatchers(e));
  return (await containersWithState(e)).filter(keep);
}

/** The keys `ps --sort` knows: Podman's. */
export const PS_SORT_KEYS = [
  "command",
  "created",
  "id",
  "image",
  "names",
  "runningfor",
  "size",
  "status",
] as const;

/** A `ps --sort` key. */
export type PsSort = typeof PS_SORT_KEYS[number];

/** Checks a `--sort` value with Podman's message for a bad one. */
export function parsePsSort(value: string): PsSort {
  if (!(PS_SORT_KEYS as readonly string[]).includes(value)) {
    throw invalid(
      `invalid argument ${JSON.stringify(value)} for "--sort" flag: ${
        JSON.stringify(value)
      } is not a valid value.  Choose from: "${PS_SORT_KEYS.join(", ")}"`,
    );
  }
  return value as PsSort;
}

/** What `ps` asks for. */
export interface PsQuery {
  /** Stopped containers too. */
  all?: boolean;
  /** Only the `last` newest (any state); `ps -l` is 1; 0 or less: all. */
  last?: number;
  /** Parsed with `parseContainerFilters`. */
  filters?: Filters;
  /** The order; creation (oldest first) by default, as Podman. */
  sort?: PsSort;
  /** The bytes each container wrote, and its image's. */
  size?: boolean;
  /** Build step containers too (`--external`). */
  external?: boolean;
  /** `--pod`: each row names its pod (PodName). */
  pod?: boolean;
  /** The namespaces of each running container (`ps --ns`). */
  namespaces?: boolean;
}

/** The ids of the pods named (by name or id prefix) in `refs`. */
function podsNamed(e: Engine, refs: string[]): Set<string> {
  return new Set(
    e.store(PodStore).list().filter((p) =>
      refs.some((r) => p.name === r || p.id.startsWith(r))
    ).map((p) => p.id),
  );
}

/**
 * Marks the rows of pods' infra containers (IsInfra) and, with `names`,
 * tells each row its pod's name; the pods are read only when some
 * container is in one.
 */
function withPods(e: Engine, shown: Shown[], names = false) {
  if (!shown.some((s) => s.x.c.host.pod)) return;
  const pods = new Map(e.store(PodStore).list().map((p) => [p.id, p]));
  for (const { x, row } of shown) {
    const pod = pods.get(x.c.host.pod ?? "");
    if (!pod) continue;
    row.IsInfra = pod.infraId === x.c.id;
    if (names) row.PodName = pod.name;
  }
}

/**
 * Bytes of the files under `dir` as containers/storage counts them: every
 * non-directory's own size (a link's is its target's length), a file with
 * several hard links once, directories none.
 */
function treeSize(dir: string, seen = new Set<string>()): number {
  let total = 0;
  try {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        total += treeSize(path, seen);
        continue;
      }
      const info = Deno.lstatSync(path);
      const key = `${info.dev}:${info.ino}`;
      if (info.nlink! > 1 && seen.has(key)) continue;
      seen.add(key);
      total += info.size;
    }
  } catch { /* gone meanwhile, or unreadable: counts nothing */ }
  return total;
}

/**
 * `ps -s` and `inspect -s`: what the container wrote, and what its layers
 * hold (Podman sums each layer's diff, not the image's archive size).
 */
async function sizeOf(e: Engine, c: ContainerConfig) {
  return {
    rwSize: await writtenSize(e, c),
    rootFsSize: c.layers.reduce((sum, l) => sum + treeSize(l), 0),
  };
}

/**
 * The bytes container `c` wrote: its overlay upper dir, or what differs in
 * its vfs copy from its layers (Podman's naive diff).
 */
export async function writtenSize(
  e: Engine,
  c: ContainerConfig,
): Promise<number> {
  const store = containerStore(e);
  if (c.storageDriver !== "vfs") return treeSize(`${store.dir(c.id)}/upper`);
  const { vfsWrittenSize } = await lazy<
    typeof import("../container/vfs_diff.ts")
  >("src/container/vfs_diff.ts");
  return vfsWrittenSize(vfsRoot(store, c), c.layers);
}

/** A row beside the container it shows, for sorting. */
type Shown = { x: Listed; row: PsRow };

/** Go's string order (bytes), not the locale's. */
const cmp = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

/** Podman's orders for `--sort`; stable, so ties stay in creation order. */
const ORDERS: Record<PsSort, (a: Shown, b: Shown) => number> = {
  command: (a, b) => cmp(a.row.Command.join(" "), b.row.Command.join(" ")),
  created: (a, b) => byCreated(a.x, b.x),
  id: (a, b) => cmp(a.x.c.id, b.x.c.id),
  image: (a, b) => cmp(a.row.Image, b.row.Image),
  names: (a, b) => cmp(a.row.Names[0], b.row.Names[0]),
  // Podman: by start, those never started first.
  runningfor: (a, b) =>
    cmp(a.x.state.startedAt ?? "", b.x.state.startedAt ?? ""),
  size: (a, b) => (a.row.Size?.rwSize ?? 0) - (b.row.Size?.rwSize ?? 0),
  status: (a, b) => cmp(a.row.Status, b.row.Status),
};

/** `ps`: rows oldest first (or in `sort` order), as Podman lists them. */
export async function listContainers(
  e: Engine,
  q: PsQuery = {},
): Promise<PsRow[]> {
  const filters = q.filters ?? new Map();
  const last = q.last !== undefined && q.last > 0 ? q.last : undefined;
  let listed = (await filterContainers(e, filters)).filter((x) =>
    q.external || !x.c.build
  );
  // Podman: without -a, only running containers, unless status= says.
  if (!q.all && last === undefined && !filters.has("status")) {
    listed = listed.filter((x) => isActive(x.state));
  }
  if (last !== undefined) listed = listed.slice(-last);
  const shown: Shown[] = [];
  for (const x of listed) {
    const row: PsRow = psRow(x.c, x.state);
    if (q.size) row.Size = await sizeOf(e, x.c);
    if (q.namespaces) row.Namespaces = namespacesOf(row.Pid);
    shown.push({ x, row });
  }
  withPods(e, shown, q.pod);
  return shown.sort(ORDERS[q.sort ?? "created"]).map((s) => s.row);
}

/** The inspect document of one container (Docker's shape). */
export async function inspectContainer(
  e: Engine,
  ref: string,
  size = false,
): Promise<Record<string, unknown>> {
  const s = containerStore(e);
  const c = s.find(ref);
  // Loaded here: ps shares this module and needs none of it.
  const { inspectDoc } = await lazy<typeof import("../container/present.ts")>(
    "src/container/present.ts",
  );
  const doc = inspectDoc(s, e.store(VolumeStore), c, await reconcile(s, c.id));
  if (!size) return doc;
  // inspect -s: Podman's two sizes, where it puts them (before Mounts).
  const { rwSize, rootFsSize } = await sizeOf(e, c);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (k === "Mounts") {
      Object.assign(out, { SizeRw: rwSize, SizeRootFs: rootFsSize });
    }
    out[k] = v;
  }
  return out;
}
