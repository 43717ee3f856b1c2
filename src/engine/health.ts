/**
 * The engine's `healthcheck run`: one check of a running container, now,
 * recorded and acted on as the container's own parent does every interval.
 */
import { checkHealth } from "../container/health.ts";
import { hasHealthcheck } from "../container/health_config.ts";
import { monitorAlive, reconcile } from "../container/liveness.ts";
import { conflict, invalid, isKind, PtdError } from "../runtime/errors.ts";
import type { Engine } from "./engine.ts";
import { containerStore } from "./listing.ts";

/**
 * Runs the check of container `ref` once; true when it passed. A missing
 * container, one without a check or one not running fails in Podman's
 * words (all exit 125).
 */
export async function runHealthcheck(e: Engine, ref: string): Promise<boolean> {
  const store = containerStore(e);
  let c;
  try {
    c = store.find(ref);
  } catch (err) {
    if (!isKind(err, "not-found")) throw err;
    throw new PtdError(
      "not-found",
      `unable to look up ${ref} to perform a health check: ${err.message}`,
      125,
    );
  }
  if (!hasHealthcheck(c.host.healthcheck)) {
    throw invalid(`container ${c.id} has no defined healthcheck`);
  }
  const s = await reconcile(store, c.id);
  if (s.status !== "running" || !monitorAlive(s)) {
    throw conflict(`container ${c.id} is not running`, 125);
  }
  return await checkHealth(store, c);
}
