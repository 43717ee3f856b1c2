/**
 * Volume operations that involve containers: creating a container's volumes
 * on first use, refusing to remove a volume in use, pruning, and `rm -v`.
 * Containers are seen only through the fields read here, so this folder does
 * not depend on the container store.
 */
import { emitEvent } from "../events/emit.ts";
import { conflict } from "../runtime/errors.ts";
import { fillFromImage } from "./copyup.ts";
import type { VolumeRecord, VolumeStore } from "./store.ts";

/** The part of a container mount that concerns volumes. */
export interface VolumeMount {
  type: string;
  /** The volume's name when type is "volume". */
  source: string;
  destination: string;
  anonymous?: boolean;
  noCopy?: boolean;
}

/** The part of a container record that says which volumes it uses. */
export interface VolumeUser {
  id: string;
  mounts?: VolumeMount[];
}

const volumesOf = (c: VolumeUser) =>
  (c.mounts ?? []).filter((m) => m.type === "volume");

/**
 * Creates the volumes a new container mounts that do not exist yet, and
 * fills each empty one from the image's `layers` (top first). On failure
 * the volumes this call created are removed again.
 */
export async function ensureVolumes(
  store: VolumeStore,
  mounts: VolumeMount[],
  layers: string[],
): Promise<void> {
  const created: string[] = [];
  try {
    for (const m of volumesOf({ id: "", mounts })) {
      if (!store.get(m.source)) created.push(m.source);
      const v = await store.create(m.source, {
        anonymous: m.anonymous,
        reuse: true,
      });
      if (!m.noCopy) await fillFromImage(v.mountpoint, m.destination, layers);
    }
  } catch (e) {
    await store.remove(created.filter((n) => store.get(n)));
    throw e;
  }
}

/** Ids of the containers that mount volume `name`. */
export function usersOf(name: string, containers: VolumeUser[]): string[] {
  return containers.filter((c) => volumesOf(c).some((m) => m.source === name))
    .map((c) => c.id);
}

/**
 * Removes the named volumes; one in use by a container is refused. Every
 * name is checked before anything is removed.
 */
export async function removeVolumes(
  store: VolumeStore,
  names: string[],
  containers: VolumeUser[],
): Promise<void> {
  for (const name of names) {
    store.find(name);
    const users = usersOf(name, containers);
    if (users.length > 0) {
      throw conflict(
        `volume ${name} is being used by the following container(s): ${
          users.join(", ")
        }: volume is being used`,
      );
    }
  }
  await store.remove(names);
}

/** Removes every `chosen` volume no container uses; returns what went. */
export async function pruneVolumes(
  store: VolumeStore,
  containers: VolumeUser[],
  chosen: (v: VolumeRecord) => boolean = () => true,
): Promise<VolumeRecord[]> {
  const unused = store.list().filter((v) =>
    chosen(v) && usersOf(v.name, containers).length === 0
  );
  await store.remove(unused.map((v) => v.name));
  for (const v of unused) {
    await emitEvent({ type: "volume", action: "prune", name: v.name });
  }
  return unused;
}

/** `rm -v` and `run --rm`: removes the container's anonymous volumes. */
export async function removeAnonymousVolumes(
  store: VolumeStore,
  c: VolumeUser,
): Promise<void> {
  const names = volumesOf(c).filter((m) => m.anonymous && store.get(m.source))
    .map((m) => m.source);
  await store.remove(names);
}
