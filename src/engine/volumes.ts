/**
 * The engine's volumes: create, list, inspect (Docker's shape), rm (with
 * `force`, the containers that use a volume go first) and prune.
 */
import { validName } from "../container/names.ts";
import { randomId } from "../container/store.ts";
import { forceRemoveVolumes } from "../container/volume_rm.ts";
import { invalid } from "../runtime/errors.ts";
import { goMap, goStruct, goTimeString } from "../runtime/gomap.ts";
import { pruneVolumes, removeVolumes, usersOf } from "../volume/ops.ts";
import { type VolumeRecord, VolumeStore } from "../volume/store.ts";
import type { Engine, PruneReport } from "./engine.ts";
import {
  compileFilters,
  type FilterSyntax,
  FORM_ERROR,
  labelsMatch,
  type Matcher,
  parseFilters,
  parseTime,
} from "./filters.ts";
import { containerStore } from "./listing.ts";

/** A volume as Podman's inspect and `volume ls --format json` show it. */
export interface VolumeInspect {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: "local";
  Options: Record<string, string>;
  /** Only for a volume named by ptd for one container. */
  Anonymous?: true;
  MountCount: number;
  NeedsCopyUp: boolean;
  /** Absent once a container uses it. */
  NeedsChown?: true;
}

function isEmpty(dir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(dir)) return false;
  } catch { /* gone: nothing to copy into either */ }
  return true;
}

/** Go's zero time, which a container never started keeps as startedAt. */
const isZeroTime = (t: string) => !t || t.startsWith("0001-01-01");

/**
 * The names of the volumes some container mounts; with `started`, only
 * containers that have run (mounted them) count.
 */
function usedVolumes(e: Engine, started = false): Set<string> {
  const store = containerStore(e);
  return new Set(
    store.list()
      .filter((c) => !started || !isZeroTime(store.state(c.id).startedAt))
      .flatMap((c) =>
        (c.mounts ?? []).filter((m) => m.type === "volume").map((m) => m.source)
      ),
  );
}

/**
 * A volume's inspect document. Podman clears NeedsCopyUp when a first
 * container fills the volume and NeedsChown when one first mounts it;
 * ptd keeps no such flags, so an empty volume needs its copy-up, and one
 * that no container has mounted (`mounted`) its chown.
 */
function inspectShape(v: VolumeRecord, mounted: Set<string>): VolumeInspect {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.created,
    Labels: goMap(v.labels),
    Scope: "local",
    Options: goMap(v.options ?? {}),
    ...(v.anonymous ? { Anonymous: true } : {}),
    MountCount: 0,
    NeedsCopyUp: isEmpty(v.mountpoint),
    ...(mounted.has(v.name) ? {} : { NeedsChown: true }),
  };
}

/**
 * What a `volume ls --format` template sees: Podman's VolumeListReport
 * (times as Go prints them, every flag present).
 */
export function volumeListView(v: VolumeInspect): Record<string, unknown> {
  return goStruct({
    ...v,
    CreatedAt: goTimeString(v.CreatedAt),
    NeedsChown: v.NeedsChown ?? false,
    Anonymous: v.Anonymous ?? false,
  }, "*entities.VolumeListReport");
}

/**
 * `volume create --driver/--opt` as Podman answers them for what ptd has:
 * the local driver and its options (type, device, o, ...), as a record;
 * a size or inode quota ptd cannot enforce, refused in Podman's words.
 */
function checkDriver(
  name = "",
  driver: string,
  options: string[],
): Record<string, string> | undefined {
  if (driver !== "local") {
    throw invalid(
      `volume ${name} uses volume plugin ${driver} but it could not be retrieved: no volume plugin with name ${driver} available: required plugin missing`,
    );
  }
  if (options.length === 0) return undefined;
  const known = ["type", "o", "device", "uid", "gid", "size", "inodes"];
  const out: Record<string, string> = {};
  for (const o of options) {
    const i = o.indexOf("=");
    const key = (i < 0 ? o : o.slice(0, i)).toLowerCase();
    const value = i < 0 ? "" : o.slice(i + 1);
    if (!known.includes(key) && key !== "nocopy") {
      throw invalid(
        `invalid mount option ${key} for driver 'local': invalid argument`,
      );
    }
    const quota = key === "size" || key === "inodes" ||
      (key === "o" && /(^|,)(size|inodes)=/.test(value));
    if (quota) {
      throw invalid(
        "volume options size and inodes not supported. Filesystem does not support Project Quota",
      );
    }
    out[key] = value;
  }
  return out;
}

/**
 * Creates a volume (a random name when none is given); returns its name.
 * `driver` (default local) and `options` (--opt) are checked as Podman
 * checks them.
 */
export async function createVolume(
  e: Engine,
  name?: string,
  labels: Record<string, string> = {},
  how: { driver?: string; options?: string[] } = {},
): Promise<string> {
  const options = checkDriver(name, how.driver ?? "local", how.options ?? []);
  if (name !== undefined && !validName(name)) {
    throw invalid(
      `invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  const v = await e.store(VolumeStore).create(name ?? randomId(), {
    labels,
    options,
  });
  return v.name;
}

/** `volume ls|prune --filter` as Podman reads it. */
const VOLUME_FILTERS: FilterSyntax = {
  keys: ["dangling", "driver", "label", "name", "opt", "scope", "until"],
  unknown: (key) => `${JSON.stringify(key)} is an invalid volume filter`,
  malformed: FORM_ERROR,
};

/** The matchers of the volume filters; dangling asks the containers. */
function volumeMatchers(e: Engine): Record<string, Matcher<VolumeRecord>> {
  const inUse = usedVolumes(e);
  const used = (v: VolumeRecord) => inUse.has(v.name);
  return {
    name: (vs) => {
      const res = vs.map((v) => new RegExp(v));
      return (v) => res.some((r) => r.test(v.name));
    },
    label: (vs) => (v) => labelsMatch(vs, v.labels),
    driver: (vs) => (v) => vs.includes(v.driver),
    scope: (vs) => () => vs.includes("local"),
    // opt=KEY or opt=KEY=VALUE: a driver option the volume was given.
    opt: (vs) => (v) =>
      vs.some((x) => {
        const [k, ...rest] = x.split("=");
        const val = v.options?.[k];
        return val !== undefined &&
          (rest.length === 0 || rest.join("=") === val);
      }),
    dangling: (vs) => {
      const want = vs.map((x) => {
        if (x !== "true" && x !== "false") {
          throw invalid(
            `"${x}" is not a valid value for the "dangling" filter - must be true or false`,
          );
        }
        return x === "true";
      });
      return (v) => want.every((w) => used(v) !== w);
    },
    until: (vs) => {
      const times = vs.map((x) => parseTime(x));
      return (v) => times.some((t) => Date.parse(v.created) < t);
    },
  };
}

/** The volumes `filters` (`--filter KEY=VALUE`) select. */
function filteredVolumes(e: Engine, filters: string[]): VolumeRecord[] {
  const keep = compileFilters(
    parseFilters(filters, VOLUME_FILTERS),
    volumeMatchers(e),
  );
  return e.store(VolumeStore).list().filter(keep);
}

/** Every volume `filters` select. */
export function listVolumes(
  e: Engine,
  filters: string[] = [],
): VolumeInspect[] {
  const mounted = usedVolumes(e, true);
  return filteredVolumes(e, filters).map((v) => inspectShape(v, mounted));
}

/** One volume (not-found when there is none of that name). */
export function inspectVolume(e: Engine, name: string): VolumeInspect {
  return inspectShape(e.store(VolumeStore).find(name), usedVolumes(e, true));
}

/**
 * Removes the named volumes, all or none, and returns the names removed:
 * a missing one is not-found and one in use a conflict, unless `force`,
 * which skips missing names and removes the containers that use the
 * volumes first.
 */
export async function removeVolumesByName(
  e: Engine,
  names: string[],
  force = false,
): Promise<string[]> {
  const volumes = e.store(VolumeStore), containers = containerStore(e);
  if (!force) {
    await removeVolumes(volumes, names, containers.list());
    return names;
  }
  const present = names.filter((n) => volumes.get(n));
  await forceRemoveVolumes(containers, volumes, present);
  return present;
}

/**
 * `volume rm --all`: each volume in turn, as Podman; one in use is a
 * conflict (the others still go) unless `force`, which removes the
 * containers that use it first.
 */
export async function removeAllVolumes(
  e: Engine,
  force = false,
): Promise<PruneReport<string>> {
  const report: PruneReport<string> = { removed: [], errors: [] };
  for (const v of e.store(VolumeStore).list()) {
    try {
      await removeVolumesByName(e, [v.name], force);
      report.removed.push(v.name);
    } catch (error) {
      report.errors.push({ id: v.name, error });
    }
  }
  return report;
}

/** The names of the volumes `volume prune` would remove. */
export function prunableVolumes(e: Engine, filters: string[] = []): string[] {
  const containers = containerStore(e).list();
  return filteredVolumes(e, filters)
    .filter((v) => usersOf(v.name, containers).length === 0)
    .map((v) => v.name);
}

/**
 * Removes every volume no container uses (of those `filters` select);
 * returns their names.
 */
export async function pruneVolumesUnused(
  e: Engine,
  filters: string[] = [],
): Promise<string[]> {
  const chosen = new Set(filteredVolumes(e, filters).map((v) => v.name));
  const gone = await pruneVolumes(
    e.store(VolumeStore),
    containerStore(e).list(),
    (v) => chosen.has(v.name),
  );
  return gone.map((v) => v.name);
}
