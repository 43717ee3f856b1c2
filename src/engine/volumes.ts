/**
 * The engine's volumes: create, list, inspect (Docker's shape), rm (with
 * `force`, the containers that use a volume go first) and prune.
 */
import { validName } from "../container/names.ts";
import { randomId } from "../container/store.ts";
import { forceRemoveVolumes } from "../container/volume_rm.ts";
import { invalid } from "../runtime/errors.ts";
import { goMap, goStruct, goTimeString } from "../runtime/gomap.ts";
import { pruneVolumes, removeVolumes } from "../volume/ops.ts";
import { type VolumeRecord, VolumeStore } from "../volume/store.ts";
import type { Engine } from "./engine.ts";
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

/** The names of the volumes some container mounts. */
function usedVolumes(e: Engine): Set<string> {
  return new Set(
    containerStore(e).list().flatMap((c) =>
      (c.mounts ?? []).filter((m) => m.type === "volume").map((m) => m.source)
    ),
  );
}

/**
 * A volume's inspect document. Podman clears NeedsCopyUp when a first
 * container fills the volume and NeedsChown when one first mounts it;
 * ptd keeps no such flags, so an empty volume needs its copy-up, and one
 * that no container mounts its chown.
 */
function inspectShape(v: VolumeRecord, used: Set<string>): VolumeInspect {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.created,
    Labels: goMap(v.labels),
    Scope: "local",
    Options: goMap({}),
    ...(v.anonymous ? { Anonymous: true } : {}),
    MountCount: 0,
    NeedsCopyUp: isEmpty(v.mountpoint),
    ...(used.has(v.name) ? {} : { NeedsChown: true }),
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

/** Creates a volume (a random name when none is given); returns its name. */
export async function createVolume(
  e: Engine,
  name?: string,
  labels: Record<string, string> = {},
): Promise<string> {
  if (name !== undefined && !validName(name)) {
    throw invalid(
      `invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  const v = await e.store(VolumeStore).create(name ?? randomId(), { labels });
  return v.name;
}

/** Every volume. */
export function listVolumes(e: Engine): VolumeInspect[] {
  const used = usedVolumes(e);
  return e.store(VolumeStore).list().map((v) => inspectShape(v, used));
}

/** One volume (not-found when there is none of that name). */
export function inspectVolume(e: Engine, name: string): VolumeInspect {
  return inspectShape(e.store(VolumeStore).find(name), usedVolumes(e));
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

/** Removes every volume no container uses; returns their names. */
export async function pruneVolumesUnused(e: Engine): Promise<string[]> {
  const gone = await pruneVolumes(
    e.store(VolumeStore),
    containerStore(e).list(),
  );
  return gone.map((v) => v.name);
}
