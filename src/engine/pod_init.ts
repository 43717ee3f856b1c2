/**
 * A pod's init containers (`create --pod P --init-ctr always|once`, and a
 * manifest's initContainers): each runs to its end, in the order they
 * were created, before the pod's other containers start; one that fails
 * stops the pod's start with Podman's error, and a "once" one is removed
 * after it succeeded, so it runs at the pod's first start only.
 */
import type { ContainerConfig } from "../container/config.ts";
import { invalid } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import { removeContainer, startContainer, waitContainer } from "./lifecycle.ts";

/** Runs the init containers among `containers` (a pod's), in order. */
export async function runInitContainers(
  e: Engine,
  containers: ContainerConfig[],
): Promise<void> {
  const init = containers.filter((c) => c.host.initCtr)
    .sort((a, b) => a.created.localeCompare(b.created));
  for (const c of init) {
    await startContainer(e, c.id);
    const code = await waitContainer(e, c.id);
    if (code !== 0) {
      throw invalid(`init container ${c.id} exited with code ${code}`);
    }
    if (c.host.initCtr === "once") {
      await removeContainer(e, c.id, { force: true });
    }
  }
}
