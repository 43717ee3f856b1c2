/**
 * `volume rm -f` the Podman way: the containers that use a volume go first
 * (killed if running), so no container is left pointing at a missing volume.
 */
import { removeVolumes, usersOf } from "../volume/ops.ts";
import type { VolumeStore } from "../volume/store.ts";
import { removeContainer } from "./lifecycle.ts";
import type { ContainerStore } from "./store.ts";

/** Removes the named volumes and every container that uses one of them. */
export async function forceRemoveVolumes(
  store: ContainerStore,
  volumes: VolumeStore,
  names: string[],
): Promise<void> {
  for (const n of names) volumes.find(n);
  const all = store.list();
  for (const c of all) {
    if (names.some((n) => usersOf(n, [c]).length > 0)) {
      await removeContainer(store, c, true);
    }
  }
  await removeVolumes(volumes, names, store.list());
}
