/**
 * Where containers and volumes meet on removal: `run --rm` and `rm -v` take
 * a container's anonymous volumes with it; named volumes always outlive it.
 */
import { removeAnonymousVolumes } from "../volume/ops.ts";
import { emitContainerEvent } from "../events/emit.ts";
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
  await emitContainerEvent(c, "remove");
  if (volumes) await removeAnonymousVolumes(new VolumeStore(store.paths), c);
}

/** The container's mounts in Docker's inspect shape (`Mounts`). */
export function inspectMounts(
  volumes: VolumeStore,
  c: ContainerConfig,
): Record<string, unknown>[] {
  // Podman leaves --tmpfs mounts out (HostConfig.Tmpfs has them).
  return (c.mounts ?? []).filter((m) => m.type !== "tmpfs").map((m) => ({
    Type: m.type,
    ...(m.type === "volume" ? { Name: m.source } : {}),
    Source: m.type === "volume"
      ? volumes.get(m.source)?.mountpoint ?? ""
      : m.source,
    Destination: m.destination,
    Driver: m.type === "volume" ? "local" : "",
    Mode: "",
    Options: m.type === "volume" ? ["nosuid", "nodev", "rbind"] : ["rbind"],
    RW: !m.readonly,
    Propagation: "rprivate",
  }));
}
