/**
 * Where containers and volumes meet on removal: `run --rm` and `rm -v` take
 * a container's anonymous volumes with it; named volumes always outlive it.
 */
import { removeAnonymousVolumes } from "../volume/ops.ts";
import { VolumeStore } from "../volume/store.ts";
import type { ContainerConfig } from "./config.ts";
import type { ContainerStore } from "./store.ts";

/** Removes a stored container; with `volumes`, its anonymous volumes too. */
export async function removeStored(
  store: ContainerStore,
  c: ContainerConfig,
  volumes: boolean,
): Promise<void> {
  await store.remove(c.id);
  if (volumes) await removeAnonymousVolumes(new VolumeStore(store.paths), c);
}
